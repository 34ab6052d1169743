// What a Record request may carry: every refusal names its problem, and a valid request
// becomes per-user messages in the order the interactions came.
#include "events/record_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ranker {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000'000;

v1::RecordRequest Request(std::vector<std::array<uint64_t, 3>> interactions) {
  v1::RecordRequest request;
  for (const auto& [user, item, time] : interactions) {
    v1::Interaction* interaction = request.add_interactions();
    interaction->set_user_id(user);
    interaction->set_item_id(item);
    interaction->set_timestamp_ms(static_cast<int64_t>(time));
  }
  return request;
}

absl::Status Validate(const v1::RecordRequest& request, RecordLimits limits = {}) {
  return ValidateRecordRequest(request, limits, kNow);
}

TEST(RecordValidationTest, AcceptsOrdinaryInteractions) {
  EXPECT_TRUE(Validate(Request({{1, 2, 0}, {1, 3, kNow}, {2, 9, kNow - 1000}})).ok());
}

TEST(RecordValidationTest, RefusesAnEmptyRequest) {
  const absl::Status status = Validate(v1::RecordRequest());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("no interactions"));
}

TEST(RecordValidationTest, RefusesMoreThanTheLimit) {
  RecordLimits limits;
  limits.max_interactions = 2;
  const absl::Status status = Validate(Request({{1, 1, 0}, {1, 2, 0}, {1, 3, 0}}), limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("3 interactions in one call; at most 2"));
  EXPECT_TRUE(Validate(Request({{1, 1, 0}, {1, 2, 0}}), limits).ok());
}

TEST(RecordValidationTest, RefusesTimesFarInTheFutureOrNegative) {
  RecordLimits limits;
  limits.max_future = absl::Minutes(5);
  const uint64_t skewed = kNow + 4 * 60 * 1000;
  EXPECT_TRUE(Validate(Request({{1, 2, skewed}}), limits).ok());
  const absl::Status future = Validate(Request({{1, 2, 0}, {1, 3, kNow + 3600 * 1000}}), limits);
  EXPECT_EQ(future.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(future.message(), HasSubstr("interaction 1: timestamp_ms"));
  EXPECT_THAT(future.message(), HasSubstr("beyond the latest time accepted"));
  v1::RecordRequest negative = Request({{1, 2, 0}});
  negative.mutable_interactions(0)->set_timestamp_ms(-5);
  EXPECT_THAT(Validate(negative).message(), HasSubstr("negative"));
}

TEST(RecordValidationTest, RefusesAbsurdIds) {
  const absl::Status user = Validate(Request({{kMaxEventId, 2, 0}}));
  EXPECT_EQ(user.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(user.message(), HasSubstr("user_id"));
  EXPECT_THAT(Validate(Request({{1, ~uint64_t{0}, 0}})).message(), HasSubstr("item_id"));
  EXPECT_TRUE(Validate(Request({{kMaxEventId - 1, kMaxEventId - 1, 0}})).ok());
}

TEST(RecordValidationTest, RefusesALongRequestId) {
  v1::RecordRequest request = Request({{1, 2, 0}});
  request.set_request_id(std::string(129, 'x'));
  EXPECT_THAT(Validate(request).message(), HasSubstr("request_id is 129 bytes"));
  request.set_request_id(std::string(128, 'x'));
  EXPECT_TRUE(Validate(request).ok());
}

TEST(RecordValidationTest, RefusesUnknownFieldsAtEitherLevel) {
  v1::RecordRequest request = Request({{1, 2, 0}});
  std::string bytes = request.SerializeAsString();
  // Field 15, varint 1: a field a newer client might send.
  v1::RecordRequest top;
  ASSERT_TRUE(top.ParseFromString(bytes + std::string("\x78\x01", 2)));
  EXPECT_THAT(Validate(top).message(), HasSubstr("fields this server does not know"));
  v1::Interaction interaction = request.interactions(0);
  std::string inner = interaction.SerializeAsString() + std::string("\x78\x01", 2);
  v1::RecordRequest nested;
  ASSERT_TRUE(
      nested.ParseFromString(std::string("\x0a", 1) + static_cast<char>(inner.size()) + inner));
  EXPECT_THAT(Validate(nested).message(), HasSubstr("interaction 0 has fields"));
}

TEST(RecordValidationTest, GroupsByUserInOrderAndStampsZeroTimes) {
  const std::vector<v1::UserInteractions> grouped =
      GroupByUser(Request({{7, 1, 10}, {3, 5, 0}, {7, 2, 20}, {7, 1, 30}}), kNow);
  ASSERT_EQ(grouped.size(), 2u);
  EXPECT_EQ(grouped[0].user_id(), 7u);
  EXPECT_THAT(grouped[0].item_ids(), ::testing::ElementsAre(1, 2, 1));
  EXPECT_THAT(grouped[0].timestamps_ms(), ::testing::ElementsAre(10, 20, 30));
  EXPECT_EQ(grouped[1].user_id(), 3u);
  EXPECT_THAT(grouped[1].timestamps_ms(), ::testing::ElementsAre(kNow));
}

TEST(RecordValidationTest, ChecksStreamMessagesAsAConsumerMeetsThem) {
  v1::UserInteractions message;
  message.set_user_id(4);
  EXPECT_THAT(ValidateUserInteractions(message, 10, kNow).message(), HasSubstr("no item ids"));
  message.add_item_ids(1);
  EXPECT_THAT(ValidateUserInteractions(message, 10, kNow).message(),
              HasSubstr("1 item ids but 0 timestamps"));
  message.add_timestamps_ms(kNow);
  EXPECT_TRUE(ValidateUserInteractions(message, 10, kNow).ok());
  EXPECT_THAT(ValidateUserInteractions(message, 10, kNow - 1).message(), HasSubstr("beyond"));
  message.add_item_ids(2);
  message.add_timestamps_ms(kNow);
  EXPECT_THAT(ValidateUserInteractions(message, 1, kNow).message(), HasSubstr("at most 1"));
  message.set_user_id(kMaxEventId);
  EXPECT_THAT(ValidateUserInteractions(message, 10, kNow).message(), HasSubstr("user_id"));
}

}  // namespace
}  // namespace ranker
