// Several models in one server (--model_config, proto/model_config.proto) over real gRPC: each
// model answers from its own store, labels pick versions, a traffic split assigns users the same
// way in two server processes, bad requests and bad configs are refused naming what is wrong,
// and SIGHUP applies a new config (or keeps the running one when the new one is bad).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "model/demo_model.h"
#include "model_store/snapshot_store.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::TempDir;

void Publish(const std::string& path, uint64_t items, uint64_t seed) {
  StoreOptions create;
  create.create_if_missing = true;
  auto store = SnapshotStore::OpenPrimary(path, create);
  ASSERT_TRUE(store.ok()) << store.status();
  DemoModelOptions options;
  options.users = 2000;
  options.items = items;
  options.d = 16;
  options.hidden = {16};
  options.ratio = 4;
  options.seed = seed;
  Snapshot snapshot = *MakeDemoSnapshot(options);
  auto published = (*store)->Publish(snapshot);
  ASSERT_TRUE(published.ok()) << published.status();
}

std::string Config(const std::string& feed, const std::string& related, int canary_percent,
                   const std::string& extra = "") {
  const std::string stable_arm =
      canary_percent < 100
          ? absl::StrCat("arms { label: \"stable\" percent: ", 100 - canary_percent, " }")
          : std::string();
  return absl::StrCat(R"pb(
                        default_model: "feed"
                        models { name: "feed" store: ")pb",
                      feed, R"pb("
                                 version_policy { latest { num_versions: 2 } }
                                 labels { key: "stable" value: 1 }
                                 labels { key: "canary" value: 2 }
                                 split { salt: "feed-test"
                      )pb",
                      stable_arm, R"pb(
                        arms { label: "canary" percent:)pb",
                      canary_percent, R"pb(}
                                           }
    }
    models { name: "related" store: ")pb",
                      related, "\" }\n", extra);
}

class SeveralModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    feed_ = dir_.Sub("feed");
    related_ = dir_.Sub("related");
    Publish(feed_, 300, 1);  // feed: versions 1 and 2, 300 items
    Publish(feed_, 300, 2);
    Publish(related_, 120, 9);  // related: version 1, 120 items
    config_ = dir_.Sub("models.pbtxt");
    std::ofstream(config_) << Config(feed_, related_, 10);
  }

  v1::RankResponse Rank(const RunningServer& server, uint64_t user, const std::string& model,
                        const std::string& label, grpc::Status* status = nullptr) {
    v1::RankRequest request;
    request.set_user_id(user);
    request.set_k(5);
    request.set_model(model);
    request.set_version_label(label);
    v1::RankResponse response;
    grpc::ClientContext context;
    const grpc::Status s = server.Ranker()->Rank(&context, request, &response);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return response;
  }

  TempDir dir_;
  std::string feed_, related_, config_;
};

TEST_F(SeveralModelsTest, EachModelAnswersFromItsOwnStoreAndLabelsPickVersions) {
  RunningServer server(feed_, {"--model_config=" + config_});
  ASSERT_TRUE(server.ok());
  for (const auto& [model, items] :
       std::map<std::string, uint64_t>{{"feed", 300}, {"related", 120}}) {
    v1::GetModelInfoRequest request;
    request.set_model(model);
    v1::ModelInfo info;
    grpc::ClientContext context;
    ASSERT_TRUE(server.Ranker()->GetModelInfo(&context, request, &info).ok());
    EXPECT_EQ(info.model(), model);
    uint64_t item_rows = 0;
    for (const v1::TableInfo& table : info.tables()) {
      if (table.feature() == "item") item_rows = table.n();
    }
    EXPECT_EQ(item_rows, items) << model;
  }
  const v1::RankResponse related = Rank(server, 3, "related", "");
  EXPECT_EQ(related.model(), "related");
  EXPECT_EQ(related.model_version(), 1u);
  EXPECT_EQ(related.version_label(), "");
  const v1::RankResponse canary = Rank(server, 3, "feed", "canary");
  EXPECT_EQ(canary.model(), "feed");
  EXPECT_EQ(canary.model_version(), 2u);
  EXPECT_EQ(canary.version_label(), "canary");
  EXPECT_FALSE(canary.split());
  EXPECT_EQ(Rank(server, 3, "", "stable").model_version(), 1u);  // "" = the default model
  // The default model's info lists its labels.
  v1::GetModelInfoRequest request;
  v1::ModelInfo info;
  grpc::ClientContext context;
  ASSERT_TRUE(server.Ranker()->GetModelInfo(&context, request, &info).ok());
  EXPECT_EQ(info.model(), "feed");
  EXPECT_EQ(info.labels().at("canary"), 2u);
  EXPECT_EQ(info.version(), 2u);  // no label, no version: the newest
}

TEST_F(SeveralModelsTest, BadRequestsAreRefusedNamingWhatIsWrong) {
  RunningServer server(feed_, {"--model_config=" + config_});
  ASSERT_TRUE(server.ok());
  grpc::Status status;
  Rank(server, 1, "nope", "", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("no model 'nope' (this server serves feed, related)"),
            std::string::npos)
      << status.error_message();
  Rank(server, 1, "related", "stable", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("has no label 'stable'"), std::string::npos);
  v1::RankRequest request;
  request.set_k(5);
  request.set_model_version(1);
  request.set_version_label("stable");
  v1::RankResponse response;
  grpc::ClientContext context;
  status = server.Ranker()->Rank(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
}

TEST_F(SeveralModelsTest, TheSplitAssignsEveryUserTheSameWayInTwoProcesses) {
  RunningServer first(feed_, {"--model_config=" + config_});
  RunningServer second(feed_, {"--model_config=" + config_});
  ASSERT_TRUE(first.ok() && second.ok());
  constexpr int kUsers = 1000;
  int canary = 0;
  for (uint64_t user = 0; user < kUsers; ++user) {
    const v1::RankResponse a = Rank(first, user, "", "");
    const v1::RankResponse b = Rank(second, user, "", "");
    ASSERT_TRUE(a.split());
    ASSERT_EQ(a.version_label(), b.version_label()) << user;
    ASSERT_EQ(a.model_version(), a.version_label() == "canary" ? 2u : 1u);
    canary += a.version_label() == "canary";
  }
  EXPECT_NEAR(canary, kUsers * 0.1, 4 * std::sqrt(kUsers * 0.1 * 0.9)) << canary;
}

TEST_F(SeveralModelsTest, ANewVersionDoesNotUnloadTheVersionsLabelsName) {
  RunningServer server(feed_, {"--model_config=" + config_, "--poll_interval=100ms"});
  ASSERT_TRUE(server.ok());
  Publish(feed_, 300, 3);  // keep 2 would drop version 1, which "stable" names
  bool newest = false;
  for (int i = 0; i < 200 && !newest; ++i) {
    v1::GetModelInfoRequest request;
    v1::ModelInfo info;
    grpc::ClientContext context;
    newest = server.Ranker()->GetModelInfo(&context, request, &info).ok() && info.version() == 3;
    if (!newest) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(newest) << server.process().Stderr();
  EXPECT_EQ(Rank(server, 1, "feed", "stable").model_version(), 1u);
  EXPECT_EQ(Rank(server, 1, "feed", "canary").model_version(), 2u);
}

TEST_F(SeveralModelsTest, ABadConfigIsRefusedAtStartNamingTheEntry) {
  const std::string bad = dir_.Sub("bad.pbtxt");
  std::ofstream(bad) << Config(
      feed_, related_, 10,
      "models { name: \"more\" store: \"" + related_ + "\" labels { key: \"stable\" value: 9 } }");
  std::string out, err;
  const int code = RunCommand({BinaryPath("server/ranker-server"), "--model_config=" + bad,
                               "--listen=127.0.0.1:0", "--admin_listen=", "--metrics_listen="},
                              &out, &err);
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("models[2] 'more': label 'stable' names version 9, which is not loaded "
                     "(loaded: 1)"),
            std::string::npos)
      << err;
}

TEST_F(SeveralModelsTest, SighupAppliesANewConfigAndKeepsTheRunningOneWhenItIsBad) {
  RunningServer server(feed_, {"--model_config=" + config_});
  ASSERT_TRUE(server.ok());
  // Calls to the default model keep going through every reload below: none may fail.
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0}, failures{0};
  std::thread load([&] {
    auto stub = server.Ranker();
    for (uint64_t user = 0; !stop.load(); ++user) {
      v1::RankRequest request;
      request.set_user_id(user);
      request.set_k(3);
      v1::RankResponse response;
      grpc::ClientContext context;
      (stub->Rank(&context, request, &response).ok() ? calls : failures)++;
    }
  });
  grpc::Status status;
  Rank(server, 1, "extra", "", &status);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  // A third model, and everyone on the canary.
  std::ofstream(config_) << Config(feed_, related_, 100,
                                   "models { name: \"extra\" store: \"" + related_ + "\" }");
  server.process().Signal(SIGHUP);
  bool applied = false;
  for (int i = 0; i < 100 && !applied; ++i) {
    Rank(server, 1, "extra", "", &status);
    applied = status.ok();
    if (!applied) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(applied) << status.error_message() << "\n" << server.process().Stderr();
  for (uint64_t user = 0; user < 50; ++user)
    EXPECT_EQ(Rank(server, user, "", "").model_version(), 2u);
  // A config with a syntax error: refused, the running one (three models, all canary) stays.
  std::ofstream(config_) << "models { name: ";
  server.process().Signal(SIGHUP);
  for (int i = 0; i < 100 && server.process().Stderr().find("refused") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(server.process().Stderr().find("refused, the running one stays"), std::string::npos)
      << server.process().Stderr();
  EXPECT_TRUE(Rank(server, 1, "extra", "", &status).model() == "extra" && status.ok());
  // Removing models: "related" and "extra" stop being routed, the default one serves on.
  std::ofstream(config_) << R"pb(models { name: "feed" store: ")pb" << feed_
                         << R"pb(" version_policy { latest { num_versions: 2 } } })pb";
  server.process().Signal(SIGHUP);
  bool removed = false;
  for (int i = 0; i < 100 && !removed; ++i) {
    Rank(server, 1, "related", "", &status);
    removed = status.error_code() == grpc::StatusCode::NOT_FOUND;
    if (!removed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(removed) << server.process().Stderr();
  stop = true;
  load.join();
  EXPECT_GT(calls.load(), 10);
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(SeveralModelsTest, ALabelMovesAtomicallyUnderLoadAndListModelsShowsIt) {
  RunningServer server(feed_, {"--model_config=" + config_});
  ASSERT_TRUE(server.ok());
  std::atomic<bool> stop{false}, moved{false};
  std::atomic<int> calls{0}, failures{0}, wrong{0}, back{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      auto stub = server.Ranker();
      bool seen_new = false;
      for (uint64_t user = t; !stop.load(); user += 3) {
        const bool after_move = moved.load();
        v1::RankRequest request;
        request.set_user_id(user);
        request.set_k(3);
        request.set_version_label("stable");
        v1::RankResponse response;
        grpc::ClientContext context;
        if (!stub->Rank(&context, request, &response).ok()) {
          ++failures;
          continue;
        }
        ++calls;
        const uint64_t version = response.model_version();
        if (version != 1 && version != 2) ++wrong;
        if (version == 1 && (seen_new || after_move)) ++back;  // the old one after the new
        seen_new = seen_new || version == 2;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  v1::SetLabelRequest set;
  set.set_model("feed");
  set.set_label("stable");
  set.set_version(2);
  v1::SetLabelResponse set_response;
  grpc::ClientContext set_context;
  const grpc::Status set_status = server.Admin()->SetLabel(&set_context, set, &set_response);
  moved = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (std::thread& client : clients) client.join();
  ASSERT_TRUE(set_status.ok()) << set_status.error_message();
  EXPECT_EQ(set_response.previous_version(), 1u);
  EXPECT_GT(calls.load(), 20);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(back.load(), 0);
  // A label cannot name a version that is not loaded.
  set.set_version(7);
  grpc::ClientContext refused_context;
  EXPECT_EQ(server.Admin()->SetLabel(&refused_context, set, &set_response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::ListModelsResponse models;
  grpc::ClientContext list_context;
  ASSERT_TRUE(server.Admin()->ListModels(&list_context, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models_size(), 2);
  const v1::ServedModelInfo& feed = models.models(0);
  EXPECT_EQ(feed.name(), "feed");
  EXPECT_TRUE(feed.is_default());
  EXPECT_EQ(feed.labels().at("stable"), 2u);
  EXPECT_EQ(feed.versions_size(), 2);
  ASSERT_EQ(feed.split_size(), 2);
  EXPECT_EQ(feed.split(1).label(), "canary");
  EXPECT_EQ(models.models(1).name(), "related");
  EXPECT_FALSE(models.models(1).is_default());
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

uint64_t TensorBytes(const std::string& store_path, uint64_t version) {
  auto store = SnapshotStore::OpenSecondary(store_path);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return 0;
  auto manifest = (*store)->ReadManifest(version);
  EXPECT_TRUE(manifest.ok()) << manifest.status();
  uint64_t bytes = 0;
  if (manifest.ok()) {
    for (const auto& tensor : manifest->tensors()) bytes += tensor.byte_size();
  }
  return bytes;
}

// --memory_limit: a config whose models would not fit is refused before anything loads (at
// start, naming every model, its versions and bytes; on SIGHUP, keeping the running config);
// the memory metrics count every loaded model.
TEST_F(SeveralModelsTest, AConfigOverTheMemoryLimitIsRefusedBeforeAnythingLoads) {
  const uint64_t feed = TensorBytes(feed_, 1) + TensorBytes(feed_, 2);
  const uint64_t related = TensorBytes(related_, 1);
  ASSERT_GT(feed, 0u);
  ASSERT_GT(related, 0u);
  std::string out, err;
  const int code = RunCommand(
      {BinaryPath("server/ranker-server"), "--model_config=" + config_, "--memory_limit=1K",
       "--listen=127.0.0.1:0", "--admin_listen=", "--metrics_listen="},
      &out, &err);
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("over --memory_limit 1.0 KiB"), std::string::npos) << err;
  EXPECT_NE(err.find("feed "), std::string::npos) << err;
  EXPECT_NE(err.find("(versions 1, 2); related "), std::string::npos) << err;
  EXPECT_EQ(err.find("listening"), std::string::npos) << "nothing may start: " << err;

  // Room for this config and half of one more copy of "related".
  const uint64_t limit = feed + related + related / 2;
  RunningServer server(feed_,
                       {"--model_config=" + config_, "--memory_limit=" + std::to_string(limit)});
  ASSERT_TRUE(server.ok()) << server.process().Stderr();
  const std::string metrics = server.ScrapeMetrics();
  for (const char* series :
       {R"(ranker_model_memory_bytes{model="feed",table="item",version="1"})",
        R"(ranker_model_memory_bytes{model="feed",table="item",version="2"})",
        R"(ranker_model_memory_bytes{model="related",table="item",version="1"})"}) {
    EXPECT_GT(testing::MetricValue(metrics, series), 0) << series << "\n" << metrics;
  }
  std::ofstream(config_) << Config(feed_, related_, 10,
                                   "models { name: \"extra\" store: \"" + related_ + "\" }");
  server.process().Signal(SIGHUP);
  for (int i = 0; i < 100 && server.process().Stderr().find("refused") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(server.process().Stderr().find("over --memory_limit"), std::string::npos)
      << server.process().Stderr();
  grpc::Status status;
  Rank(server, 1, "extra", "", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << "the running config stays";
  EXPECT_EQ(Rank(server, 1, "related", "").model(), "related");
  // Removing a model removes its memory series.
  std::ofstream(config_) << R"pb(models { name: "feed" store: ")pb" << feed_
                         << R"pb(" version_policy { latest { num_versions: 2 } } })pb";
  server.process().Signal(SIGHUP);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = testing::MetricValue(
               server.ScrapeMetrics(),
               R"(ranker_model_memory_bytes{model="related",table="item",version="1"})") < 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

// The admin ReloadConfig applies the file as SIGHUP does and answers with the outcome: the
// models now served, or the reason the file was refused (the running config staying).
TEST_F(SeveralModelsTest, TheAdminReloadConfigAppliesTheFileAndSaysWhyItRefusesOne) {
  RunningServer server(feed_, {"--model_config=" + config_});
  ASSERT_TRUE(server.ok());
  std::ofstream(config_) << Config(feed_, related_, 10,
                                   "models { name: \"extra\" store: \"" + related_ + "\" }");
  {
    grpc::ClientContext context;
    v1::ReloadConfigResponse response;
    const grpc::Status status =
        server.Admin()->ReloadConfig(&context, v1::ReloadConfigRequest(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.models_size(), 3);
    EXPECT_EQ(response.models(2), "extra");
  }
  // Applied when the call returns: the new model answers at once.
  EXPECT_EQ(Rank(server, 1, "extra", "").model(), "extra");

  std::ofstream(config_) << Config(feed_, related_, 10,
                                   "models { name: \"feed\" store: \"" + related_ + "\" }");
  {
    grpc::ClientContext context;
    v1::ReloadConfigResponse response;
    const grpc::Status status =
        server.Admin()->ReloadConfig(&context, v1::ReloadConfigRequest(), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("another model has this name"), std::string::npos)
        << status.error_message();
  }
  EXPECT_EQ(Rank(server, 1, "extra", "").model(), "extra") << "the running config stays";

  // The CLI, back to two models.
  std::ofstream(config_) << Config(feed_, related_, 10);
  std::string out, err;
  ASSERT_EQ(RunCommand({BinaryPath("client/ranker-client"), "reload-config",
                        "--admin_target=" + server.admin_target()},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("model config applied: feed, related"), std::string::npos) << out;
  grpc::Status status;
  Rank(server, 1, "extra", "", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

// Without --model_config there is nothing to read again.
TEST(SingleStoreReloadConfigTest, IsRefusedWithoutAModelConfig) {
  TempDir dir;
  testing::RunStoreTool({"demo", "--store=" + dir.Sub("store"), "--users=20", "--items=30", "--d=8",
                         "--hidden=8", "--ratio=2"});
  RunningServer server(dir.Sub("store"));
  ASSERT_TRUE(server.ok());
  grpc::ClientContext context;
  v1::ReloadConfigResponse response;
  const grpc::Status status =
      server.Admin()->ReloadConfig(&context, v1::ReloadConfigRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("without --model_config"), std::string::npos);
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

// A specific version policy loads exactly the listed versions: feed has versions 1 and 2, the
// config lists 1, so version 2 is never loaded and unlabelled calls get version 1.
TEST_F(SeveralModelsTest, ASpecificPolicyLoadsOnlyTheListedVersions) {
  std::ofstream(config_) << R"pb(models { name: "feed" store: ")pb" << feed_
                         << R"pb(" version_policy { specific { versions: 1 } } })pb";
  RunningServer server(feed_, {"--model_config=" + config_, "--poll_interval=100ms"});
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(Rank(server, 3, "", "").model_version(), 1u);
  // Publishing another version changes nothing.
  Publish(feed_, 300, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Rank(server, 3, "", "").model_version(), 1u);
  grpc::ClientContext context;
  v1::ListModelsResponse models;
  ASSERT_TRUE(server.Admin()->ListModels(&context, v1::ListModelsRequest(), &models).ok());
  ASSERT_EQ(models.models_size(), 1);
  ASSERT_EQ(models.models(0).versions_size(), 1);
  EXPECT_EQ(models.models(0).versions(0).version(), 1u);
}

}  // namespace
}  // namespace ranker
