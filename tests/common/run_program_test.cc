// RunProgram: a missing program or directory is NOT_FOUND, a failing one INTERNAL with its
// exit code, and the program runs in the directory it was given.
#include "common/run_program.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;
using ::testing::HasSubstr;

TEST(RunProgramTest, MissingProgramIsNotFound) {
  TempDir dir;
  const absl::Status status = RunProgram(dir.path(), {"no-such-plotter-9f3c", "results.gp"});
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(status.message(), HasSubstr("no-such-plotter-9f3c"));
  EXPECT_EQ(RunProgram(dir.Sub("missing"), {"true"}).code(), absl::StatusCode::kNotFound);
}

TEST(RunProgramTest, ExitCodeAndWorkingDirectory) {
  TempDir dir;
  EXPECT_TRUE(RunProgram(dir.path(), {"true", "results.gp"}).ok());
  const absl::Status failed = RunProgram(dir.path(), {"false"});
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal) << failed;
  EXPECT_THAT(failed.message(), HasSubstr("exited with code 1"));
  // `touch results.gp` in the child's working directory creates the file in `dir`.
  ASSERT_TRUE(RunProgram(dir.path(), {"touch", "results.gp"}).ok());
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("results.gp")));
}

}  // namespace
}  // namespace ranker
