#include "model_store/npy.h"

#include <cerrno>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace ranker {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The value of `key` in the header dict, e.g. '<f4' for 'descr' or (3, 4) for 'shape'.
std::string HeaderValue(const std::string& header, const std::string& key) {
  const size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) return "";
  size_t start = header.find(':', at);
  if (start == std::string::npos) return "";
  ++start;
  while (start < header.size() && header[start] == ' ') ++start;
  if (start < header.size() && header[start] == '(') {
    const size_t end = header.find(')', start);
    return end == std::string::npos ? "" : header.substr(start, end - start + 1);
  }
  const size_t end = header.find_first_of(",}", start);
  return header.substr(start, end - start);
}

}  // namespace

absl::StatusOr<Tensor> ReadNpy(const std::string& path) {
  // Streamed (not through ReadFileToString): the data goes straight into its aligned buffer,
  // and the header's claim is checked against the file's size before anything is allocated.
  std::ifstream in(path, std::ios::binary);
  if (!in) return FileError(errno, "cannot open .npy file", path);
  const auto fail = [&](const std::string& reason) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", reason));
  };
  char magic[8];
  if (!in.read(magic, 8) || std::string(magic, 6) != std::string(kMagic, 6)) {
    return fail("not a .npy file");
  }
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) return fail("truncated header");
    header_len = len[0] | (len[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char len[4];
    if (!in.read(reinterpret_cast<char*>(len), 4)) return fail("truncated header");
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<uint32_t>(len[3]) << 24);
  } else {
    return fail(absl::StrCat("unsupported .npy version ", major));
  }
  if (header_len > (1u << 20)) return fail("header too large");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) return fail("truncated header");

  Tensor tensor;
  const std::string descr = HeaderValue(header, "descr");
  if (descr == "'<f4'") {
    tensor.dtype = snapshot::FLOAT32;
  } else if (descr == "'<u8'") {
    tensor.dtype = snapshot::UINT64;
  } else if (descr == "'|i1'") {
    tensor.dtype = snapshot::INT8;
  } else if (descr == "'|u1'") {
    tensor.dtype = snapshot::UINT8;
  } else {
    return fail(
        absl::StrCat("dtype ", descr, " is not supported (want '<f4', '<u8', '|i1' or '|u1')"));
  }
  if (HeaderValue(header, "fortran_order") != "False")
    return fail("Fortran order is not supported");
  std::string shape_text = HeaderValue(header, "shape");
  if (shape_text.size() < 2) return fail("no shape in header");
  shape_text = shape_text.substr(1, shape_text.size() - 2);
  uint64_t elements = 1;
  for (absl::string_view part : absl::StrSplit(shape_text, ',', absl::SkipWhitespace())) {
    uint64_t dim = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &dim)) {
      return fail(absl::StrCat("bad shape (", shape_text, ")"));
    }
    if (dim != 0 && elements > (uint64_t{1} << 40) / dim) return fail("shape too large");
    tensor.shape.push_back(dim);
    elements *= dim;
  }
  const uint64_t bytes = elements * DTypeSize(tensor.dtype);
  // Compare with what the file holds before allocating: a header may claim any shape.
  const std::streampos data_start = in.tellg();
  in.seekg(0, std::ios::end);
  const std::streamoff available = in.tellg() - data_start;
  in.seekg(data_start);
  if (!in || available < 0 || static_cast<uint64_t>(available) != bytes) {
    return fail(absl::StrCat("shape (", shape_text, ") needs ", bytes,
                             " bytes of data, the file has ", available));
  }
  ASSIGN_OR_RETURN(tensor.bytes, AlignedBuffer::Allocate(bytes));
  if (!in.read(reinterpret_cast<char*>(tensor.bytes.data()), static_cast<std::streamsize>(bytes))) {
    return fail(absl::StrCat("data shorter than shape (", shape_text, ") needs"));
  }
  return tensor;
}

absl::Status WriteNpy(const std::string& path, const Tensor& tensor) {
  std::string shape = absl::StrJoin(tensor.shape, ", ");
  if (tensor.shape.size() == 1) shape += ",";
  const char* descr = tensor.dtype == snapshot::UINT64  ? "<u8"
                      : tensor.dtype == snapshot::INT8  ? "|i1"
                      : tensor.dtype == snapshot::UINT8 ? "|u1"
                                                        : "<f4";
  std::string header =
      absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", shape, "), }");
  // Pad so that magic + version + length + header + '\n' is a multiple of 64.
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) return FileError(errno, "cannot create .npy file", path);
  out.write(kMagic, 6);
  const char version[2] = {1, 0};
  out.write(version, 2);
  const char len[2] = {static_cast<char>(header.size() & 0xFF),
                       static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header;
  out.write(reinterpret_cast<const char*>(tensor.bytes.data()),
            static_cast<std::streamsize>(tensor.bytes.size()));
  out.close();
  return out ? absl::OkStatus() : FileError(errno, "cannot write .npy file", path);
}

}  // namespace ranker
