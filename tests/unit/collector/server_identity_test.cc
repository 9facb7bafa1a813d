// Tests for exporter/collector/server_identity: the row read at connect.
#include "exporter/collector/server_identity.h"

#include <gtest/gtest.h>

#include "tests/unit/testing/canned_rows.h"

namespace pgrepl {
namespace {

TEST(ServerIdentity, ParsesTheSampleRow) {
  ServerIdentity id;
  Status s = ParseServerIdentity(canned::ServerIdentityRows(), &id);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(id.system_identifier, "7714835322823784349");
  EXPECT_EQ(id.postmaster_start, "2026-12-02 22:21:16.041698+00");
  EXPECT_EQ(id.address, "10.244.1.17");
}

TEST(ServerIdentity, NullAddressIsEmpty) {
  // Over a Unix socket inet_server_addr() is NULL.
  ServerIdentity id;
  ASSERT_TRUE(
      ParseServerIdentity(canned::ServerIdentityRows("7", std::nullopt), &id)
          .ok());
  EXPECT_EQ(id.address, "");
}

TEST(ServerIdentity, SameServerNeedsIdentifierAndStartTime) {
  ServerIdentity a{"7", "2026-12-02 22:21:16+00", "10.0.0.1"};
  ServerIdentity b = a;
  b.address = "10.0.0.2";  // another path to the same server
  EXPECT_TRUE(a.SameServer(b));
  ServerIdentity replica = a;
  replica.postmaster_start = "2026-12-02 22:21:17+00";
  EXPECT_FALSE(a.SameServer(replica)) << "a replica shares the identifier";
  ServerIdentity other = a;
  other.system_identifier = "8";
  EXPECT_FALSE(a.SameServer(other));
  ServerIdentity unknown = a;
  unknown.postmaster_start = "";
  EXPECT_FALSE(unknown.SameServer(unknown)) << "unknown start: never merged";
}

TEST(ServerIdentity, RejectsWhatIsNoIdentifier) {
  ServerIdentity id;
  EXPECT_FALSE(ParseServerIdentity(Rows{}, &id).ok()) << "no row";
  EXPECT_FALSE(ParseServerIdentity(canned::ServerIdentityRows(""), &id).ok());
  EXPECT_FALSE(
      ParseServerIdentity(canned::ServerIdentityRows("12ab"), &id).ok());
  Rows null_id = canned::ServerIdentityRows();
  null_id.values[0][0] = std::nullopt;
  EXPECT_FALSE(ParseServerIdentity(null_id, &id).ok());
  Rows two = canned::ServerIdentityRows();
  two.values.push_back(two.values[0]);
  EXPECT_FALSE(ParseServerIdentity(two, &id).ok());
}

TEST(ServerIdentity, NullStartTimeIsEmptyNotAnError) {
  Rows rows = canned::ServerIdentityRows();
  rows.values[0][1] = std::nullopt;
  ServerIdentity id;
  ASSERT_TRUE(ParseServerIdentity(rows, &id).ok());
  EXPECT_EQ(id.postmaster_start, "");
}

}  // namespace
}  // namespace pgrepl
