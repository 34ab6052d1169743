// The file layer: errno maps to one status code per cause, every error names the path, atomic
// writes replace whole files and leave no temporary behind, copies carry the CRC-32C of what
// they copied and never overwrite, listings are sorted.
#include "common/files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "common/crc32c.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FileErrorTest, OneCodePerCauseAndThePathInTheMessage) {
  EXPECT_EQ(FileError(ENOENT, "cannot open", "/a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FileError(ENOSPC, "cannot write", "/a").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FileError(EACCES, "cannot open", "/a").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(FileError(EEXIST, "cannot create", "/a").code(), absl::StatusCode::kAlreadyExists);
  const absl::Status status = FileError(ENOSPC, "cannot write", "/data/x.sst");
  EXPECT_THAT(status.message(), HasSubstr("cannot write '/data/x.sst'"));
  EXPECT_THAT(status.message(), HasSubstr("No space left on device"));
}

TEST(FilesTest, ReadMissingFileIsNotFoundNamingWhatAndPath) {
  TempDir dir;
  const auto read = ReadFileToString(dir.Sub("absent.pem"), "--tls_ca file");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(read.status().message(), HasSubstr("--tls_ca file"));
  EXPECT_THAT(read.status().message(), HasSubstr(dir.Sub("absent.pem")));
  // A directory opens but cannot be read.
  EXPECT_FALSE(ReadFileToString(dir.path(), "a directory").ok());
}

TEST(FilesTest, AtomicWriteReplacesTheWholeFileAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.Sub("LATEST");
  ASSERT_TRUE(WriteFileAtomically(path, "a much longer first version\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "2\n").ok());
  EXPECT_EQ(*ReadFileToString(path, "pointer"), "2\n");
  EXPECT_THAT(*ListDirectory(dir.path()), ElementsAre("LATEST"));
  // Binary contents survive byte for byte.
  const std::string bytes("a\0b\xff", 4);
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  EXPECT_EQ(*ReadFileToString(path, "pointer"), bytes);
}

TEST(FilesTest, AtomicWriteIntoAMissingDirectoryNamesIt) {
  TempDir dir;
  const absl::Status status = WriteFileAtomically(dir.Sub("no/such/file"), "x");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr(dir.Sub("no/such/file")));
}

TEST(FilesTest, CopyCarriesSizeAndChecksumAndNeverOverwrites) {
  TempDir dir;
  std::string contents;
  for (int i = 0; i < 3'000'000; ++i) contents.push_back(static_cast<char>(i * 7));
  ASSERT_TRUE(WriteFileAtomically(dir.Sub("from"), contents).ok());
  const auto copied = CopyFileWithChecksum(dir.Sub("from"), dir.Sub("to"));
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(copied->bytes, contents.size());
  EXPECT_EQ(copied->crc32c, Crc32c(contents.data(), contents.size()));
  EXPECT_EQ(*ReadFileToString(dir.Sub("to"), "copy"), contents);
  const auto again = CopyFileWithChecksum(dir.Sub("from"), dir.Sub("to"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  // Checksum only.
  const auto summed = CopyFileWithChecksum(dir.Sub("to"), "");
  ASSERT_TRUE(summed.ok());
  EXPECT_EQ(summed->crc32c, copied->crc32c);
  EXPECT_EQ(CopyFileWithChecksum(dir.Sub("absent"), "").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(FilesTest, ListingIsSortedAndDirectoriesAreCreatedWithParents) {
  TempDir dir;
  ASSERT_TRUE(CreateDirectories(dir.Sub("b/c/d")).ok());
  ASSERT_TRUE(CreateDirectories(dir.Sub("b/c/d")).ok());  // already there: fine
  ASSERT_TRUE(WriteFileAtomically(dir.Sub("a"), "").ok());
  EXPECT_THAT(*ListDirectory(dir.path()), ElementsAre("a", "b"));
  EXPECT_EQ(ListDirectory(dir.Sub("zz")).status().code(), absl::StatusCode::kNotFound);
  const absl::Status blocked = CreateDirectories(dir.Sub("a/x"));  // "a" is a file
  EXPECT_FALSE(blocked.ok());
  EXPECT_THAT(blocked.message(), HasSubstr(dir.Sub("a/x")));
  EXPECT_TRUE(SyncPath(dir.path()).ok());
}

}  // namespace
}  // namespace ranker
