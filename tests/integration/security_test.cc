// Who gets in: TLS and mutual TLS with certificates made here by openssl, the admin service's
// loopback/token rule (unit-tested and over a real non-loopback address), stores that contain
// symbolic links, and the concurrency limit's RESOURCE_EXHAUSTED.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "server/admin_access.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::Subprocess;
using ::ranker::testing::TempDir;

TEST(IsLoopbackPeerTest, ClassifiesGrpcPeerStrings) {
  for (const char* peer :
       {"ipv4:127.0.0.1:5000", "ipv4:127.3.4.5:1", "ipv6:[::1]:5000", "ipv6:%5B::1%5D:5000",
        "ipv6:[::ffff:127.0.0.1]:80", "unix:/tmp/socket", "unix-abstract:ranker"}) {
    EXPECT_TRUE(IsLoopbackPeer(peer)) << peer;
  }
  for (const char* peer :
       {"ipv4:10.0.0.5:5000", "ipv4:128.0.0.1:5000", "ipv6:[2001:db8::1]:5000",
        "ipv6:[::ffff:10.0.0.1]:80", "ipv6:%5B::2%5D:1", "ipv4:", "ipv4:127.0.0.1", "ipv6:::1:5",
        "", "127.0.0.1:5000", "ipv4:localhost:50"}) {
    EXPECT_FALSE(IsLoopbackPeer(peer)) << peer;
  }
}

TEST(AdminAccessTest, LoopbackAlwaysRemoteOnlyWithTheToken) {
  const AdminAccess no_token("");
  EXPECT_TRUE(no_token.Authorize("ipv4:127.0.0.1:1", "").ok());
  EXPECT_EQ(no_token.Authorize("ipv4:10.1.2.3:1", "Bearer ").code(),
            absl::StatusCode::kPermissionDenied);
  const AdminAccess with_token("s3cret");
  EXPECT_TRUE(with_token.Authorize("ipv6:[::1]:1", "").ok());
  EXPECT_TRUE(with_token.Authorize("ipv4:10.1.2.3:1", "Bearer s3cret").ok());
  for (const char* wrong : {"", "s3cret", "Bearer s3cre", "Bearer s3cretX", "Bearer S3CRET",
                            "bearer s3cret", "Bearer  s3cret"}) {
    EXPECT_EQ(with_token.Authorize("ipv4:10.1.2.3:1", wrong).code(),
              absl::StatusCode::kUnauthenticated)
        << wrong;
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

void Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out, err;
  ASSERT_EQ(RunCommand(argv, &out, &err), 0) << err;
}

// A CA, and leaf certificates it signs: `server` for localhost/127.0.0.1, `client` for client
// authentication. `rogue` is an unrelated CA with its own client certificate.
class Certificates {
 public:
  explicit Certificates(const std::string& dir) : dir_(dir) {
    MakeCa("ca");
    MakeCa("rogue");
    MakeLeaf("ca", "server",
             "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
             "extendedKeyUsage=serverAuth\n");
    MakeLeaf("ca", "client", "extendedKeyUsage=clientAuth\n");
    MakeLeaf("rogue", "rogue-client", "extendedKeyUsage=clientAuth\n");
  }
  std::string Pem(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string Key(const std::string& name) const { return dir_ + "/" + name + ".key"; }

 private:
  void MakeCa(const std::string& name) {
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", Key(name), "-out", Pem(name), "-days", "2", "-subj",
             "/CN=ranker test " + name});
  }
  void MakeLeaf(const std::string& ca, const std::string& name, const std::string& extensions) {
    const std::string csr = dir_ + "/" + name + ".csr", ext = dir_ + "/" + name + ".ext";
    WriteFile(ext, extensions);
    Openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", Key(name), "-out", csr, "-subj", "/CN=" + name});
    Openssl({"x509", "-req", "-in", csr, "-CA", Pem(ca), "-CAkey", Key(ca), "-CAcreateserial",
             "-out", Pem(name), "-days", "2", "-extfile", ext});
  }
  std::string dir_;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunStoreTool({"demo", "--store=" + store_, "--users=100", "--items=50", "--d=8", "--hidden=8",
                  "--ratio=4", "--seed=3"});
  }

  // Calls Rank over a channel with `credentials`; returns the status.
  grpc::Status RankWith(const std::string& target,
                        const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    auto stub = v1::Ranker::NewStub(grpc::CreateChannel(target, credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::RankRequest request;
    request.set_user_id(1);
    request.set_k(3);
    v1::RankResponse response;
    grpc::Status status = stub->Rank(&context, request, &response);
    if (status.ok()) {
      EXPECT_EQ(response.items_size(), 3);
    }
    return status;
  }

  std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& ca,
                                                const std::string& client = "") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadAll(certs_.Pem(ca));
    if (!client.empty()) {
      options.pem_cert_chain = ReadAll(certs_.Pem(client));
      options.pem_private_key = ReadAll(certs_.Key(client));
    }
    return grpc::SslCredentials(options);
  }

  TempDir dir_;
  const std::string store_ = dir_.Sub("store");
  Certificates certs_{dir_.path()};
};

TEST_F(TlsTest, ServesTlsOnlyToClientsThatTrustItsCa) {
  RunningServer server(store_,
                       {"--tls_cert=" + certs_.Pem("server"), "--tls_key=" + certs_.Key("server")});
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE(RankWith(server.target(), Tls("ca")).ok());
  EXPECT_EQ(RankWith(server.target(), grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(RankWith(server.target(), Tls("rogue")).error_code(), grpc::StatusCode::UNAVAILABLE);

  // The command-line client, end to end.
  std::string out, err;
  EXPECT_EQ(RunCommand({BinaryPath("client/ranker-client"), "rank", "--target=" + server.target(),
                        "--user=1", "--k=2", "--tls_ca=" + certs_.Pem("ca")},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("model version 1"), std::string::npos) << out;
  EXPECT_NE(RunCommand({BinaryPath("client/ranker-client"), "rank", "--target=" + server.target(),
                        "--user=1", "--timeout=3s"},
                       &out, &err),
            0);
  EXPECT_EQ(RunCommand({BinaryPath("client/ranker-client"), "rank", "--target=" + server.target(),
                        "--tls_cert=" + certs_.Pem("client")},
                       &out, &err),
            2);
  EXPECT_NE(err.find("--tls_ca"), std::string::npos) << err;
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheClientCa) {
  RunningServer server(store_,
                       {"--tls_cert=" + certs_.Pem("server"), "--tls_key=" + certs_.Key("server"),
                        "--tls_client_ca=" + certs_.Pem("ca")});
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE(RankWith(server.target(), Tls("ca", "client")).ok());
  EXPECT_NE(RankWith(server.target(), Tls("ca")).error_code(), grpc::StatusCode::OK);
  EXPECT_NE(RankWith(server.target(), Tls("ca", "rogue-client")).error_code(),
            grpc::StatusCode::OK);
  EXPECT_NE(RankWith(server.target(), grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::OK);
}

TEST_F(TlsTest, RefusesToStartOnIncompleteOrUnreadableTlsFlags) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tls_cert=" + certs_.Pem("server")}, "--tls_cert and --tls_key must be given together"},
      {{"--tls_client_ca=" + certs_.Pem("ca")}, "--tls_client_ca needs --tls_cert"},
      {{"--tls_cert=" + dir_.Sub("missing.pem"), "--tls_key=" + certs_.Key("server")},
       "cannot read --tls_cert file"},
      {{"--tls_cert=" + dir_.Sub("server.ext"), "--tls_key=" + certs_.Key("server")}, "is not PEM"},
  };
  for (const auto& [flags, message] : cases) {
    std::vector<std::string> argv = {BinaryPath("server/ranker-server"), "--store=" + store_,
                                     "--listen=127.0.0.1:0",
                                     "--admin_listen=", "--metrics_listen="};
    argv.insert(argv.end(), flags.begin(), flags.end());
    std::string out, err;
    EXPECT_EQ(RunCommand(argv, &out, &err), 2) << flags[0];
    EXPECT_NE(err.find(message), std::string::npos) << err;
  }
}

// A non-loopback IPv4 address of this machine, or "" if it has none.
std::string NonLoopbackAddress() {
  ifaddrs* addresses = nullptr;
  if (getifaddrs(&addresses) != 0) return "";
  std::string found;
  for (ifaddrs* a = addresses; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if ((ntohl(ipv4->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &ipv4->sin_addr, text, sizeof(text)) != nullptr) found = text;
  }
  freeifaddrs(addresses);
  return found;
}

grpc::Status ListVersions(const std::string& target, const std::string& authorization) {
  auto stub =
      v1::RankerAdmin::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  v1::ListLoadedVersionsResponse response;
  grpc::Status status = stub->ListLoadedVersions(&context, {}, &response);
  if (status.ok()) {
    EXPECT_EQ(response.versions_size(), 1);
  }
  return status;
}

TEST(AdminServiceTest, RemoteCallersNeedTheTokenLoopbackCallersDoNot) {
  const std::string address = NonLoopbackAddress();
  if (address.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
  TempDir dir;
  RunStoreTool({"demo", "--store=" + dir.Sub("store"), "--users=50", "--items=20", "--d=4",
                "--hidden=4", "--ratio=2"});
  const auto remote = [&](const RunningServer& server) {
    const std::string target = server.admin_target();
    return address + target.substr(target.rfind(':'));
  };
  {
    RunningServer server(dir.Sub("store"), {"--admin_listen=0.0.0.0:0"});
    ASSERT_TRUE(server.ok());
    EXPECT_TRUE(ListVersions(server.admin_target(), "").ok());
    const grpc::Status refused = ListVersions(remote(server), "Bearer anything");
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_NE(refused.error_message().find("--admin_token_file"), std::string::npos);
  }
  WriteFile(dir.Sub("token"), "  correct-horse\n");
  RunningServer server(dir.Sub("store"),
                       {"--admin_listen=0.0.0.0:0", "--admin_token_file=" + dir.Sub("token")});
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE(ListVersions(server.admin_target(), "").ok());
  EXPECT_EQ(ListVersions(remote(server), "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListVersions(remote(server), "Bearer wrong").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListVersions(remote(server), "Bearer correct-horse").ok());

  // The client CLI sends the token from a file.
  std::string out, err;
  EXPECT_EQ(
      RunCommand({BinaryPath("client/ranker-client"), "versions",
                  "--admin_target=" + remote(server), "--admin_token_file=" + dir.Sub("token")},
                 &out, &err),
      0)
      << err;
  EXPECT_NE(out.find("serving"), std::string::npos) << out;
  EXPECT_EQ(
      RunCommand({BinaryPath("client/ranker-client"), "reload", "--admin_target=" + remote(server)},
                 &out, &err),
      1);
  EXPECT_NE(err.find("UNAUTHENTICATED"), std::string::npos) << err;
}

TEST(StoreConfinementTest, ALinkInsideTheStoreIsRefusedByServerAndTools) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  RunStoreTool(
      {"demo", "--store=" + store, "--users=50", "--items=20", "--d=4", "--hidden=4", "--ratio=2"});
  // Move one table file out and link it back: the data is intact, but now outside the store.
  std::string table_file;
  for (const auto& entry : std::filesystem::directory_iterator(store)) {
    if (entry.path().extension() == ".sst") table_file = entry.path().filename();
  }
  ASSERT_FALSE(table_file.empty());
  std::filesystem::rename(store + "/" + table_file, dir.Sub(table_file));
  std::filesystem::create_symlink(dir.Sub(table_file), store + "/" + table_file);

  std::string out, err;
  EXPECT_EQ(RunCommand({BinaryPath("server/ranker-server"), "--store=" + store,
                        "--listen=127.0.0.1:0", "--admin_listen=", "--metrics_listen="},
                       &out, &err),
            1);
  EXPECT_NE(err.find("is a symbolic link"), std::string::npos) << err;
  EXPECT_NE(
      RunCommand({BinaryPath("model_store/ranker-store"), "list", "--store=" + store}, &out, &err),
      0);
  EXPECT_NE(err.find("is a symbolic link"), std::string::npos) << err;

  // The store directory itself may be a link (e.g. onto a data disk).
  std::filesystem::remove(store + "/" + table_file);
  std::filesystem::rename(dir.Sub(table_file), store + "/" + table_file);
  std::filesystem::create_directory_symlink(store, dir.Sub("link-to-store"));
  EXPECT_EQ(RunCommand({BinaryPath("model_store/ranker-store"), "list",
                        "--store=" + dir.Sub("link-to-store")},
                       &out, &err),
            0)
      << err;
}

TEST(ConcurrencyLimitTest, CallsBeyondTheLimitGetResourceExhaustedAtOnce) {
  TempDir dir;
  // A catalogue large enough that ranking all of it takes a while, so calls overlap.
  RunStoreTool({"demo", "--store=" + dir.Sub("store"), "--users=1000", "--items=200000", "--d=32",
                "--hidden=64,32", "--ratio=16"});
  // One stage: two would rank the catalogue in well under a millisecond.
  RunningServer server(dir.Sub("store"),
                       {"--max_concurrent_ranks=1", "--threads=16", "--retrieve_n=0"});
  ASSERT_TRUE(server.ok());
  auto stub = server.Ranker();
  std::map<grpc::StatusCode, int> codes;
  std::string busy_message;
  for (int round = 0; round < 10 && codes[grpc::StatusCode::RESOURCE_EXHAUSTED] == 0; ++round) {
    constexpr int kCalls = 6;
    grpc::CompletionQueue queue;
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<v1::RankResponse> responses(kCalls);
    std::vector<grpc::Status> statuses(kCalls);
    v1::RankRequest request;
    request.set_user_id(3);
    request.set_k(10);
    for (int i = 0; i < kCalls; ++i) {
      contexts.push_back(std::make_unique<grpc::ClientContext>());
      contexts.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      stub->AsyncRank(contexts.back().get(), request, &queue)
          ->Finish(&responses[i], &statuses[i], &statuses[i]);  // the status is the tag
    }
    for (int done = 0; done < kCalls; ++done) {
      void* tag = nullptr;
      bool ok = false;
      ASSERT_TRUE(queue.Next(&tag, &ok));
      const grpc::Status& status = *static_cast<grpc::Status*>(tag);
      ++codes[status.error_code()];
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        busy_message = status.error_message();
      }
    }
  }
  EXPECT_GT(codes[grpc::StatusCode::RESOURCE_EXHAUSTED], 0);
  EXPECT_GT(codes[grpc::StatusCode::OK], 0);
  EXPECT_EQ(codes[grpc::StatusCode::OK] + codes[grpc::StatusCode::RESOURCE_EXHAUSTED], [&] {
    int total = 0;
    for (const auto& [code, n] : codes) total += n;
    return total;
  }());
  EXPECT_NE(busy_message.find("1 Rank calls already in flight"), std::string::npos) << busy_message;
  EXPECT_GT(
      testing::MetricValue(server.ScrapeMetrics(),
                           "ranker_requests_total{code=\"RESOURCE_EXHAUSTED\",method=\"Rank\"}"),
      0);
}

}  // namespace
}  // namespace ranker
