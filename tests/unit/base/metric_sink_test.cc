// Tests for exporter/metric_sink.
#include "exporter/base/metric_sink.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace pgrepl {
namespace {

TEST(MetricSink, GroupsSamplesByFamilyWithBaseLabels) {
  MetricSink root;
  MetricSink a = root.WithBase({{"cluster", "c"}, {"instance", "a"}});
  MetricSink b = root.WithBase({{"cluster", "c"}, {"instance", "b"}});
  a.Gauge("pgrepl_up", "help", 1);
  b.Gauge("pgrepl_up", "help", 0);
  MetricSink nested = a.WithBase({{"cluster", "c"}});
  nested.Counter("pgrepl_x_total", "help", 3);
  auto fams = root.Take();
  ASSERT_EQ(fams.size(), 2u);
  EXPECT_EQ(fams[0].name, "pgrepl_up");
  ASSERT_EQ(fams[0].metric.size(), 2u);
  EXPECT_EQ(fams[0].metric[1].label[1].value, "b");
  EXPECT_EQ(fams[0].metric[1].gauge.value, 0);
  EXPECT_EQ(fams[1].metric[0].counter.value, 3);
}

TEST(MetricSink, HistogramSerializes) {
  MetricSink root(LabelPairs{{"cluster", "c"}});
  root.Histogram("pgrepl_h_seconds", "help", {{0.5, 1}, {1, 3}}, 2.5, 4);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, root.Take());
  std::string text = out.str();
  EXPECT_NE(text.find("pgrepl_h_seconds_bucket{cluster=\"c\",le=\"0.5\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("le=\"+Inf\"} 4"), std::string::npos) << text;
  EXPECT_NE(text.find("pgrepl_h_seconds_count{cluster=\"c\"} 4"),
            std::string::npos);
}

}  // namespace
}  // namespace pgrepl
