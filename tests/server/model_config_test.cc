// The model config (server/model_config.h): a good config parses field for field; every bad one
// is refused with a message naming the entry at fault.
#include "server/model_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;

constexpr char kTwoModels[] = R"pb(
  default_model: "feed"
  models {
    name: "feed"
    store: "/data/feed"
    version_policy { latest { num_versions: 2 } }
    labels { key: "stable" value: 41 }
    labels { key: "canary" value: 42 }
    split {
      salt: "feed-2026-12"
      arms { label: "stable" percent: 90 }
      arms { label: "canary" percent: 10 }
    }
  }
  models { name: "related" store: "/data/related" }
)pb";

TEST(ModelConfigTest, ATwoModelConfigParsesFieldForField) {
  absl::StatusOr<config::ModelConfigList> parsed = ParseModelConfig(kTwoModels);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->models_size(), 2);
  const config::ModelConfig& feed = parsed->models(0);
  EXPECT_EQ(feed.name(), "feed");
  EXPECT_EQ(feed.store(), "/data/feed");
  EXPECT_EQ(feed.version_policy().latest().num_versions(), 2u);
  EXPECT_EQ(feed.labels().at("stable"), 41u);
  EXPECT_EQ(feed.labels().at("canary"), 42u);
  ASSERT_EQ(feed.split().arms_size(), 2);
  EXPECT_EQ(feed.split().arms(1).label(), "canary");
  EXPECT_DOUBLE_EQ(feed.split().arms(1).percent(), 10);
  EXPECT_EQ(DefaultModelName(*parsed), "feed");
  EXPECT_FALSE(parsed->models(1).has_version_policy());
}

TEST(ModelConfigTest, TheSingleStoreShorthandIsTheDefaultModel) {
  const config::ModelConfigList config = SingleStoreConfig("var/store");
  EXPECT_TRUE(CheckModelConfig(config).ok());
  EXPECT_EQ(DefaultModelName(config), "default");
  EXPECT_EQ(config.models(0).store(), "var/store");
}

void ExpectRefused(const std::string& text, const std::string& naming) {
  absl::StatusOr<config::ModelConfigList> parsed = ParseModelConfig(text);
  ASSERT_FALSE(parsed.ok()) << text;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(naming), std::string::npos)
      << parsed.status().message() << "\n  should name: " << naming;
}

TEST(ModelConfigTest, BadConfigsAreRefusedNamingTheEntry) {
  ExpectRefused("", "no models");
  ExpectRefused("models { name: \"feed\" store: \"/a\" ", "line 1");  // syntax: unterminated
  ExpectRefused("models { name: \"feed\" stor: \"/a\" }", "stor");    // unknown field
  ExpectRefused("models { name: \"Feed\" store: \"/a\" }", "models[0] 'Feed': the name");
  ExpectRefused("models { name: \"feed\" }", "models[0] 'feed': no store");
  ExpectRefused("models { name: \"a\" store: \"/a\" } models { name: \"a\" store: \"/b\" }",
                "models[1] 'a': another model has this name");
  ExpectRefused(R"pb(models {
                       name: "a"
                       store: "/a"
                       version_policy { specific {} }
                     })pb",
                "lists no versions");
  ExpectRefused(
      R"pb(models {
             name: "a"
             store: "/a"
             version_policy { specific { versions: 3 versions: 4 } }
             labels { key: "canary" value: 5 }
           })pb",
      "label 'canary' names version 5, which the version policy does not keep (3, 4)");
  ExpectRefused(R"pb(models {
                       name: "a"
                       store: "/a"
                       labels { key: "stable" value: 0 }
                     })pb",
                "label 'stable' names version 0");
  ExpectRefused(R"pb(models {
                       name: "a"
                       store: "/a"
                       labels { key: "stable" value: 1 }
                       split { arms { label: "canary" percent: 100 } }
                     })pb",
                "split arm 'canary' is not one of the model's labels");
  ExpectRefused(R"pb(models {
                       name: "a"
                       store: "/a"
                       labels { key: "stable" value: 1 }
                       labels { key: "canary" value: 2 }
                       split {
                         arms { label: "stable" percent: 90 }
                         arms { label: "canary" percent: 5 }
                       }
                     })pb",
                "split arms sum to 95%, not 100%");
  ExpectRefused(R"pb(models {
                       name: "a"
                       store: "/a"
                       labels { key: "stable" value: 1 }
                       split {
                         arms { label: "stable" percent: 50 }
                         arms { label: "stable" percent: 50 }
                       }
                     })pb",
                "split arm 'stable' appears twice");
  ExpectRefused(R"pb(models {
                       name: "a"
                       store: "/a"
                       labels { key: "stable" value: 1 }
                       labels { key: "canary" value: 2 }
                       split {
                         arms { label: "stable" percent: 99.995 }
                         arms { label: "canary" percent: 0.005 }
                       }
                     })pb",
                "in steps of 0.01");
  ExpectRefused("default_model: \"nope\" models { name: \"a\" store: \"/a\" }",
                "default_model 'nope' is not one of the models");
}

TEST(ModelConfigTest, FilesAreReadAndTheirErrorsNameThePath) {
  TempDir dir;
  const std::string good = dir.Sub("good.pbtxt"), bad = dir.Sub("bad.pbtxt");
  std::ofstream(good) << kTwoModels;
  std::ofstream(bad) << "models { name: \"a\" }";
  EXPECT_TRUE(ReadModelConfig(good).ok());
  absl::StatusOr<config::ModelConfigList> refused = ReadModelConfig(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(bad), std::string::npos) << refused.status();
  EXPECT_EQ(ReadModelConfig(dir.Sub("missing.pbtxt")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ranker
