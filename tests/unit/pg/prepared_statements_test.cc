// Tests for exporter/pg/prepared_statements: names per session, one Parse
// per text and session, and the bound on how many are kept.
#include "exporter/pg/prepared_statements.h"

#include <gtest/gtest.h>

#include <string>

namespace pgrepl {
namespace {

TEST(PreparedStatements, EachTextIsPreparedOnceUnderItsOwnName) {
  PreparedStatements p;
  auto a = p.For("SELECT 1");
  auto b = p.For("SELECT 2");
  EXPECT_EQ(a.name, "pgrepl_1");
  EXPECT_EQ(b.name, "pgrepl_2");
  EXPECT_TRUE(a.prepare);
  EXPECT_TRUE(b.prepare);
  p.Prepared("SELECT 1");
  p.Prepared("SELECT 2");
  for (int i = 0; i < 3; ++i) {
    auto again = p.For("SELECT 1");
    EXPECT_EQ(again.name, "pgrepl_1");
    EXPECT_FALSE(again.prepare);
  }
  EXPECT_EQ(p.size(), 2u);
}

TEST(PreparedStatements, AFailedParseIsTriedAgainUnderTheSameName) {
  PreparedStatements p;
  EXPECT_TRUE(p.For("SELEC 1").prepare);
  auto again = p.For("SELEC 1");  // no Prepared(): the Parse failed
  EXPECT_EQ(again.name, "pgrepl_1");
  EXPECT_TRUE(again.prepare);
}

TEST(PreparedStatements, ANewSessionPreparesEverythingAgain) {
  PreparedStatements p;
  p.For("SELECT 1");
  p.Prepared("SELECT 1");
  p.Reset();
  EXPECT_EQ(p.size(), 0u);
  auto a = p.For("SELECT 1");
  EXPECT_EQ(a.name, "pgrepl_1");
  EXPECT_TRUE(a.prepare);
}

TEST(PreparedStatements, BeyondItsCapacityAStatementRunsUnnamed) {
  PreparedStatements p(2);
  p.For("SELECT 1");
  p.For("SELECT 2");
  auto third = p.For("SELECT 3");
  EXPECT_TRUE(third.name.empty());
  EXPECT_FALSE(third.prepare);
  EXPECT_EQ(p.size(), 2u);
  EXPECT_EQ(p.For("SELECT 2").name, "pgrepl_2");  // the kept ones stay
}

}  // namespace
}  // namespace pgrepl
