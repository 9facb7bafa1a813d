// Tests for exporter/text_format: the exposition text must be byte for byte
// what prometheus-cpp's TextSerializer writes, which serves as the oracle.
#include "exporter/metrics/text_format.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "exporter/base/metric_sink.h"

namespace pgrepl {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Reference(const std::vector<MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

std::string Ours(const std::vector<MetricFamily>& families) {
  std::string out;
  EXPECT_TRUE(AppendTextFormat(families, &out));
  return out;
}

// Equality, with the first difference shown rather than two long texts.
::testing::AssertionResult SameAsTextSerializer(
    const std::vector<MetricFamily>& families) {
  const std::string want = Reference(families);
  const std::string got = Ours(families);
  if (got == want) return ::testing::AssertionSuccess();
  std::size_t at = 0;
  while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
  const std::size_t from = at < 80 ? 0 : at - 80;
  return ::testing::AssertionFailure()
         << "first difference at byte " << at << " (sizes " << got.size()
         << " vs " << want.size() << ")\n ours: " << got.substr(from, 160)
         << "\n reference: " << want.substr(from, 160);
}

// Both ours and TextSerializer's text must be exactly `want`.
void ExpectText(const std::vector<MetricFamily>& families,
                const std::string& want) {
  EXPECT_EQ(Ours(families), want);
  EXPECT_EQ(Reference(families), want);
}

ClientMetric Labelled(std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  return m;
}

MetricFamily Family(std::string name, std::string help, MetricType type,
                    std::vector<ClientMetric> metrics) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  f.metric = std::move(metrics);
  return f;
}

MetricFamily OneGauge(double value) {
  ClientMetric m = Labelled({{"instance", "a"}});
  m.gauge.value = value;
  return Family("pgrepl_g", "", MetricType::Gauge, {m});
}

TEST(AppendTextFormat, WritesGaugeAndCounterLines) {
  ClientMetric up = Labelled({{"cluster", "main"}, {"instance", "db1"}});
  up.gauge.value = 1;
  ClientMetric bare;
  bare.gauge.value = 0.25;
  ClientMetric restarts = Labelled({{"instance", "db1"}});
  restarts.counter.value = 3;
  const std::vector<MetricFamily> families = {
      Family("pgrepl_up", "Whether the instance answered.", MetricType::Gauge,
             {up, bare}),
      Family("pgrepl_restarts_total", "Restarts.", MetricType::Counter,
             {restarts})};
  const std::string want =
      "# HELP pgrepl_up Whether the instance answered.\n"
      "# TYPE pgrepl_up gauge\n"
      "pgrepl_up{cluster=\"main\",instance=\"db1\"} 1\n"
      "pgrepl_up 0.25\n"
      "# HELP pgrepl_restarts_total Restarts.\n"
      "# TYPE pgrepl_restarts_total counter\n"
      "pgrepl_restarts_total{instance=\"db1\"} 3\n";
  ExpectText(families, want);
}

TEST(AppendTextFormat, FormatsDoublesAsTextSerializerDoes) {
  struct Case {
    double value;
    const char* text;
  };
  for (const Case& c : {
           Case{0, "0"},
           Case{-0.0, "-0"},
           Case{1, "1"},
           Case{-1, "-1"},
           Case{0.1, "0.1"},
           Case{0.25, "0.25"},
           Case{1.0 / 3, "0.3333333333333333"},
           Case{2.0 / 3, "0.6666666666666666"},
           Case{123456789.123, "123456789.123"},
           Case{1e-300, "1e-300"},
           Case{-1e-300, "-1e-300"},
           Case{1e300, "1e+300"},
           Case{1e15, "1000000000000000"},
           Case{1e16, "1e+16"},
           Case{1e21, "1e+21"},
           Case{0.0001, "0.0001"},
           Case{0.00001, "1e-05"},
           Case{9007199254740991.0, "9007199254740991"},  // 2^53 - 1
           Case{9007199254740992.0, "9007199254740992"},  // 2^53
           Case{-9007199254740992.0, "-9007199254740992"},
           Case{18446744073709551615.0, "1.844674407370955e+19"},
           Case{5e-324, "4.940656458412465e-324"},
           Case{std::numeric_limits<double>::max(), "1.797693134862316e+308"},
           Case{std::numeric_limits<double>::min(), "2.225073858507201e-308"},
           Case{1234567.5, "1234567.5"},
           Case{0.1 + 0.2, "0.3"},
           Case{kNaN, "Nan"},
           Case{-kNaN, "Nan"},
           Case{kInf, "+Inf"},
           Case{-kInf, "-Inf"},
       }) {
    const std::vector<MetricFamily> families = {OneGauge(c.value)};
    const std::string want =
        "# TYPE pgrepl_g gauge\npgrepl_g{instance=\"a\"} " +
        std::string(c.text) + "\n";
    SCOPED_TRACE(c.text);
    ExpectText(families, want);
  }
}

TEST(AppendTextFormat, MatchesOnIntegersAroundTwoToThe53) {
  std::vector<MetricFamily> families;
  for (int shift = 0; shift <= 64; ++shift) {
    const double p = std::ldexp(1.0, shift);
    for (double v : {p - 1, p, p + 1, -p, p * 10 - 1, p / 3}) {
      families.push_back(OneGauge(v));
    }
  }
  // Every double from 20 below 1e16 to 20 above (their spacing is 2 there).
  double v = 9999999999999980.0;
  for (int i = 0; i < 20; ++i, v = std::nextafter(v, kInf)) {
    families.push_back(OneGauge(v));
  }
  EXPECT_TRUE(SameAsTextSerializer(families));
}

TEST(AppendTextFormat, EscapesLabelValuesButNotHelp) {
  ClientMetric m =
      Labelled({{"path", "C:\\data\\pg"},
                {"quote", "say \"hi\""},
                {"lines", "one\ntwo\n"},
                {"utf8", "r\xc3\xa9plica \xe2\x86\x92 \xf0\x9f\x90\x98"},
                {"mixed", "\\\"\n\\n"},
                {"empty", ""}});
  m.gauge.value = 7;
  const std::vector<MetricFamily> families = {
      Family("pgrepl_e", "Help with \\ backslash, \"quotes\" and \xc3\xa9.",
             MetricType::Gauge, {m})};
  const std::string want =
      "# HELP pgrepl_e Help with \\ backslash, \"quotes\" and \xc3\xa9.\n"
      "# TYPE pgrepl_e gauge\n"
      "pgrepl_e{path=\"C:\\\\data\\\\pg\",quote=\"say \\\"hi\\\"\","
      "lines=\"one\\ntwo\\n\","
      "utf8=\"r\xc3\xa9plica \xe2\x86\x92 \xf0\x9f\x90\x98\","
      "mixed=\"\\\\\\\"\\n\\\\n\",empty=\"\"} 7\n";
  ExpectText(families, want);
}

TEST(AppendTextFormat, WritesHelpNewlinesRawLikeTextSerializer) {
  // TextSerializer does not escape HELP, so a newline there breaks the line;
  // kept identical (the exporter's help texts have none).
  const std::vector<MetricFamily> families = {
      Family("pgrepl_h", "first\nsecond \\n", MetricType::Gauge, {})};
  ExpectText(families,
             "# HELP pgrepl_h first\nsecond \\n\n# TYPE pgrepl_h gauge\n");
}

TEST(AppendTextFormat, EmptyInputsAndFamilies) {
  EXPECT_EQ(Ours({}), "");
  EXPECT_EQ(Reference({}), "");
  const std::vector<MetricFamily> families = {
      Family("pgrepl_none", "No samples.", MetricType::Gauge, {}),
      Family("pgrepl_nohelp", "", MetricType::Counter, {ClientMetric{}}),
      Family("pgrepl_hist_empty", "", MetricType::Histogram, {})};
  ExpectText(families,
             "# HELP pgrepl_none No samples.\n"
             "# TYPE pgrepl_none gauge\n"
             "# TYPE pgrepl_nohelp counter\n"
             "pgrepl_nohelp 0\n"
             "# TYPE pgrepl_hist_empty histogram\n");
}

TEST(AppendTextFormat, HistogramAddsInfBucketUnlessLastIsInf) {
  ClientMetric open = Labelled({{"instance", "r1"}});
  open.histogram.sample_count = 18446744073709551615ULL;
  open.histogram.sample_sum = 12.5;
  open.histogram.bucket = {{4000000000000000000ULL, 0.005},
                           {18446744073709551614ULL, 1}};
  ClientMetric closed;
  closed.histogram.sample_count = 9;
  closed.histogram.sample_sum = 0.1;
  closed.histogram.bucket = {{2, 0.1}, {9, kInf}};
  const std::vector<MetricFamily> families = {Family(
      "pgrepl_lag_seconds", "Lag.", MetricType::Histogram, {open, closed})};
  const std::string want =
      "# HELP pgrepl_lag_seconds Lag.\n"
      "# TYPE pgrepl_lag_seconds histogram\n"
      "pgrepl_lag_seconds_count{instance=\"r1\"} 18446744073709551615\n"
      "pgrepl_lag_seconds_sum{instance=\"r1\"} 12.5\n"
      "pgrepl_lag_seconds_bucket{instance=\"r1\",le=\"0.005\"} "
      "4000000000000000000\n"
      "pgrepl_lag_seconds_bucket{instance=\"r1\",le=\"1\"} "
      "18446744073709551614\n"
      "pgrepl_lag_seconds_bucket{instance=\"r1\",le=\"+Inf\"} "
      "18446744073709551615\n"
      "pgrepl_lag_seconds_count 9\n"
      "pgrepl_lag_seconds_sum 0.1\n"
      "pgrepl_lag_seconds_bucket{le=\"0.1\"} 2\n"
      "pgrepl_lag_seconds_bucket{le=\"+Inf\"} 9\n";
  ExpectText(families, want);
}

TEST(AppendTextFormat, HistogramOddBucketListsMatch) {
  ClientMetric no_buckets;
  no_buckets.histogram.sample_count = 4;
  ClientMetric inf_not_last;
  inf_not_last.histogram.sample_count = 5;
  inf_not_last.histogram.bucket = {{5, kInf}, {5, 1}};
  ClientMetric nan_bound = Labelled({{"a", "b"}});
  nan_bound.histogram.sample_count = 2;
  nan_bound.histogram.sample_sum = kNaN;
  nan_bound.histogram.bucket = {{1, -kInf}, {2, kNaN}};
  const std::vector<MetricFamily> families = {
      Family("pgrepl_h", "H", MetricType::Histogram,
             {no_buckets, inf_not_last, nan_bound})};
  ExpectText(families,
             "# HELP pgrepl_h H\n"
             "# TYPE pgrepl_h histogram\n"
             "pgrepl_h_count 4\npgrepl_h_sum 0\n"
             "pgrepl_h_bucket{le=\"+Inf\"} 4\n"
             "pgrepl_h_count 5\npgrepl_h_sum 0\n"
             "pgrepl_h_bucket{le=\"+Inf\"} 5\n"
             "pgrepl_h_bucket{le=\"1\"} 5\n"
             "pgrepl_h_bucket{le=\"+Inf\"} 5\n"
             "pgrepl_h_count{a=\"b\"} 2\npgrepl_h_sum{a=\"b\"} Nan\n"
             "pgrepl_h_bucket{a=\"b\",le=\"-Inf\"} 1\n"
             "pgrepl_h_bucket{a=\"b\",le=\"Nan\"} 2\n"
             "pgrepl_h_bucket{a=\"b\",le=\"+Inf\"} 2\n");
}

TEST(AppendTextFormat, SummaryUntypedTimestampsAndUnknownType) {
  ClientMetric s = Labelled({{"q", "x"}});
  s.summary.sample_count = 10;
  s.summary.sample_sum = 2.5;
  s.summary.quantile = {{0.5, 0.2}, {0.99, 1.75}};
  s.timestamp_ms = 1700000000123;
  ClientMetric u;
  u.untyped.value = -3.5;
  u.timestamp_ms = -42;
  ClientMetric g;
  g.gauge.value = 1;
  const std::vector<MetricFamily> families = {
      Family("pgrepl_s", "S", MetricType::Summary, {s}),
      Family("pgrepl_u", "", MetricType::Untyped, {u}),
      // Not a MetricType TextSerializer knows: its HELP line and nothing else.
      Family("pgrepl_x", "X", static_cast<MetricType>(42), {g})};
  ExpectText(families,
             "# HELP pgrepl_s S\n"
             "# TYPE pgrepl_s summary\n"
             "pgrepl_s_count{q=\"x\"} 10 1700000000123\n"
             "pgrepl_s_sum{q=\"x\"} 2.5 1700000000123\n"
             "pgrepl_s{q=\"x\",quantile=\"0.5\"} 0.2 1700000000123\n"
             "pgrepl_s{q=\"x\",quantile=\"0.99\"} 1.75 1700000000123\n"
             "# TYPE pgrepl_u untyped\n"
             "pgrepl_u -3.5 -42\n"
             "# HELP pgrepl_x X\n");
}

TEST(AppendTextFormat, AppendsToExistingContent) {
  std::string out = "kept\n";
  ASSERT_TRUE(AppendTextFormat({OneGauge(2)}, &out));
  EXPECT_EQ(out, "kept\n# TYPE pgrepl_g gauge\npgrepl_g{instance=\"a\"} 2\n");
}

TEST(AppendTextFormat, ManyLabelSetsFromMetricSink) {
  MetricSink root;
  for (int i = 0; i < 40; ++i) {
    MetricSink sink = root.WithBase(
        {{"cluster", "c\"" + std::to_string(i % 3)},
         {"instance", "db" + std::to_string(i) + ".example:5432"}});
    sink.Gauge("pgrepl_up", "Up.", i % 2);
    sink.Gauge("pgrepl_lsn_bytes", "LSN.", 16777216.0 * i + 0.5,
               {{"kind", "replay"}});
    sink.Counter("pgrepl_restarts_total", "Restarts.", i * 1e12);
    sink.Histogram("pgrepl_lag_seconds", "Lag.",
                   {{0.001, 0}, {0.01, std::uint64_t(i)}, {1, 2ULL * i}},
                   i * 0.125, 3ULL * i, {{"role", i ? "replica" : "primary"}});
  }
  const std::vector<MetricFamily> families = root.Take();
  ASSERT_EQ(families.size(), 4u);
  const std::string text = Ours(families);
  EXPECT_NE(text.find("pgrepl_lsn_bytes{cluster=\"c\\\"1\",instance=\"db7."
                      "example:5432\",kind=\"replay\"} 117440512.5\n"),
            std::string::npos);
  EXPECT_TRUE(SameAsTextSerializer(families));
}

// Random families: names and labels from an alphabet with the characters
// that need escaping and multi-byte UTF-8, and doubles from several mixes.
class RandomFamilies {
 public:
  explicit RandomFamilies(std::uint64_t seed) : rng_(seed) {}

  MetricFamily Next() {
    static constexpr MetricType kTypes[] = {
        MetricType::Counter, MetricType::Gauge, MetricType::Summary,
        MetricType::Untyped, MetricType::Histogram};
    MetricFamily f;
    f.name = "pgrepl_" + Text(1 + Below(12), false);
    f.help = Below(4) == 0 ? "" : Text(Below(40), true);
    f.type = kTypes[Below(5)];
    const int metrics = Below(6);
    for (int i = 0; i < metrics; ++i) f.metric.push_back(Metric());
    return f;
  }

 private:
  int Below(int n) { return static_cast<int>(rng_() % n); }

  std::string Text(int length, bool specials) {
    static const char* const kPieces[] = {"a",
                                          "b",
                                          "z",
                                          "_",
                                          "0",
                                          "9",
                                          "x",
                                          "\\",
                                          "\"",
                                          "\n",
                                          "\xc3\xa9",
                                          "\xe2\x82\xac",
                                          "\xf0\x9f\x98\x80",
                                          " ",
                                          "{",
                                          "}",
                                          "=",
                                          ",",
                                          "#"};
    std::string s;
    for (int i = 0; i < length; ++i) {
      s += kPieces[Below(specials ? 19 : 7)];
    }
    return s;
  }

  double Value() {
    switch (Below(9)) {
      case 0: {
        const std::uint64_t bits = rng_();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;  // any bit pattern: NaNs, subnormals, huge
      }
      case 1:
        return static_cast<double>(rng_() % 100000);
      case 2:
        return static_cast<double>(rng_() >> Below(64));  // up to 2^64
      case 3:
        return std::round(Uniform(-1e6, 1e6) * 1000) / 1000;
      case 4:
        return std::ldexp(Uniform(0, 1), Below(2200) - 1100);
      case 5:
        return Uniform(-1, 1);
      case 6: {
        static constexpr double kSpecial[] = {0.0,  -0.0,   kInf,  -kInf,
                                              kNaN, 1e-300, 1e300, 0.1};
        return kSpecial[Below(8)];
      }
      case 7:
        return std::pow(10.0, Below(40) - 20) * Below(10);
      default:
        return -static_cast<double>(rng_() % 9007199254740993ULL);
    }
  }

  double Uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }

  ClientMetric Metric() {
    ClientMetric m;
    const int labels = Below(5);
    for (int i = 0; i < labels; ++i) {
      m.label.push_back({Text(1 + Below(6), false), Text(Below(20), true)});
    }
    m.counter.value = Value();
    m.gauge.value = Value();
    m.untyped.value = Value();
    m.summary.sample_count = rng_();
    m.summary.sample_sum = Value();
    const int quantiles = Below(4);
    for (int i = 0; i < quantiles; ++i) {
      m.summary.quantile.push_back({Value(), Value()});
    }
    m.histogram.sample_count = rng_() >> Below(64);
    m.histogram.sample_sum = Value();
    const int buckets = Below(8);
    for (int i = 0; i < buckets; ++i) {
      m.histogram.bucket.push_back({rng_() >> Below(64), Value()});
    }
    if (Below(3) == 0) m.histogram.bucket.push_back({1, kInf});
    if (Below(5) == 0) {
      m.timestamp_ms = static_cast<std::int64_t>(rng_()) >> Below(64);
    }
    return m;
  }

  std::mt19937_64 rng_;
};

TEST(AppendTextFormat, MatchesTextSerializerOnRandomFamilies) {
  for (std::uint64_t seed : {1u, 2u, 3u, 20240601u}) {
    RandomFamilies random(seed);
    std::vector<MetricFamily> families;
    for (int i = 0; i < 300; ++i) families.push_back(random.Next());
    const std::string text = Ours(families);
    EXPECT_GT(text.size(), 10000u) << "seed " << seed;
    EXPECT_TRUE(SameAsTextSerializer(families)) << "seed " << seed;
    // Also one family at a time, so a mismatch is easy to pin down.
    for (const MetricFamily& f : families) {
      ASSERT_TRUE(SameAsTextSerializer({f}))
          << "seed " << seed << " " << f.name;
    }
  }
}

}  // namespace
}  // namespace pgrepl
