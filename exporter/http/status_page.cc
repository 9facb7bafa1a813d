// The status page (/): a StatusReport as one self-contained HTML document
// with inline CSS and SVG, no JavaScript and no external assets.
#include "exporter/http/status_page.h"

#include <algorithm>
#include <cstdio>

#include "exporter/base/text.h"
#include "exporter/base/version.h"

namespace pgrepl {
namespace {

constexpr char kStyle[] = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;
 background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 24px;display:flex;
 align-items:baseline;gap:24px;flex-wrap:wrap}
header h1{font-size:18px;margin:0}
header a{color:#9cc3ff}
main{padding:8px 24px 24px}
section.cluster{background:#fff;border:1px solid #d8dbe2;border-radius:6px;
 margin:16px 0;padding:12px 16px}
h2{font-size:16px;margin:0 0 8px}
.warn-text{color:#a15c00;font-weight:600}
table{border-collapse:collapse;width:100%;margin-top:8px}
th,td{text-align:left;padding:6px 8px;border-top:1px solid #e6e8ed;
 vertical-align:top}
th{font-size:12px;color:#5b6475;font-weight:600;border-top:none}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;
 font-weight:600;color:#fff}
.b-primary{background:#3158c9}.b-replica{background:#6b4fbb}
.b-unknown{background:#8a90a0}
.b-up{background:#2e9e44}.b-down{background:#d03030}
.chk{display:inline-block;margin-right:4px;padding:0 5px;border-radius:3px;
 font-size:11px;border:1px solid}
.chk-ok{color:#1f7a33;border-color:#8fd19e}
.chk-fail{color:#6b7386;border-color:#d8dbe2}
.muted{color:#6b7386}.err{color:#a32020;font-size:12px}
ul.slots{margin:0;padding-left:16px}
svg text{font-family:system-ui,sans-serif}
)";

std::string Fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// "512 B", "182.7 kB", "16.0 MB": for reading, not parsing.
std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? Fmt("%.0f B", bytes) : Fmt("%.1f ", bytes) + kUnits[unit];
}

const char* BandColour(LagBand band) {
  switch (band) {
    case LagBand::kGood:
      return "#2e9e44";
    case LagBand::kWarn:
      return "#e0a100";
    case LagBand::kBad:
      return "#d03030";
    case LagBand::kNone:
      break;
  }
  return "#8a90a0";
}

// "also reached as a, b": the other targets that reach this server.
std::string Aliases(const std::vector<std::string>& aliases) {
  if (aliases.empty()) return "";
  std::string names;
  for (const auto& a : aliases) {
    if (!names.empty()) names += ", ";
    names += HtmlEscape(a);
  }
  return "<br><span class=\"muted\">also reached as " + names + "</span>";
}

std::string LagText(const InstanceStatus& i) {
  if (i.role != Role::kReplica) return "";
  std::string out = i.lag_seconds ? Fmt("%.3f s", *i.lag_seconds) : "unknown";
  if (i.lag_bytes) {
    out += " / " + HumanBytes(std::max(0.0, *i.lag_bytes));
  }
  return out;
}

// A bar for 0..2x the limit, with ticks at 80% and 100% of the limit.
std::string LagBar(const InstanceStatus& i, double x, double y, double width) {
  double fill = std::clamp(i.lag_fraction / 2.0, 0.0, 1.0) * width;
  if (i.lag_band == LagBand::kGood && fill < 2) fill = 2;  // visible when ~0
  std::string out;
  out += "<rect x=\"" + Fmt("%.1f", x) + "\" y=\"" + Fmt("%.1f", y) +
         "\" width=\"" + Fmt("%.1f", width) +
         "\" height=\"8\" rx=\"3\" fill=\"#e6e8ed\"/>";
  out += "<rect class=\"lagbar\" x=\"" + Fmt("%.1f", x) + "\" y=\"" +
         Fmt("%.1f", y) + "\" width=\"" + Fmt("%.1f", fill) +
         "\" height=\"8\" rx=\"3\" fill=\"" + BandColour(i.lag_band) + "\"/>";
  for (double tick : {0.4, 0.5}) {
    double tx = x + tick * width;
    out += "<line x1=\"" + Fmt("%.1f", tx) + "\" y1=\"" + Fmt("%.1f", y - 2) +
           "\" x2=\"" + Fmt("%.1f", tx) + "\" y2=\"" + Fmt("%.1f", y + 10) +
           "\" stroke=\"#5b6475\" stroke-width=\"" +
           (tick == 0.5 ? "1.5" : "0.7") + "\"/>";
  }
  return out;
}

std::string LagCell(const InstanceStatus& i) {
  if (i.role != Role::kReplica) return "<span class=\"muted\">&mdash;</span>";
  std::string out =
      "<svg width=\"140\" height=\"14\" role=\"img\" aria-label=\"lag\">" +
      LagBar(i, 1, 3, 138) + "</svg><br>" + HtmlEscape(LagText(i));
  return out;
}

// Sidecar with --sidecar.primary: the primary's reachability, and the
// state of serving reads without a primary.
std::string PrimaryReachNote(const InstanceStatus& i) {
  if (i.serving_without_primary) {
    return "<br><span class=\"warn-text\">serving without primary: caught "
           "up with the last primary seen</span>";
  }
  if (i.primary_reachable && !*i.primary_reachable) {
    return "<br><span class=\"err\">primary not reachable</span>";
  }
  return "";
}

std::string ReceiverCell(const InstanceStatus& i) {
  if (i.role != Role::kReplica) return "<span class=\"muted\">&mdash;</span>";
  if (!i.wal_receiver) {
    return "<span class=\"err\">not running</span>" + PrimaryReachNote(i);
  }
  const auto& w = *i.wal_receiver;
  std::string cls =
      i.replica_state == ReplicaState::kStreaming ? "" : " class=\"err\"";
  std::string out = "<span" + cls + ">" + HtmlEscape(w.status) + "</span>";
  if (!w.upstream_host.empty()) {
    out += "<br><span class=\"muted\">from " + HtmlEscape(w.upstream_host) +
           ":" + HtmlEscape(w.upstream_port) + "</span>";
  }
  if (i.replay_paused && *i.replay_paused)
    out += "<br><span class=\"err\">replay paused</span>";
  return out + PrimaryReachNote(i);
}

std::string SlotsCell(const InstanceStatus& i) {
  if (i.slots.empty()) return "<span class=\"muted\">none</span>";
  std::string out = "<ul class=\"slots\">";
  for (const auto& s : i.slots) {
    out += "<li>" + HtmlEscape(s.name) + " <span class=\"" +
           (s.active ? "muted\">active" : "err\">inactive") + "</span>";
    if (s.wal_status) {
      bool bad = *s.wal_status == "unreserved" || *s.wal_status == "lost";
      out += std::string(", ") +
             (bad ? "<span class=\"err\">" : "<span class=\"muted\">") +
             HtmlEscape(*s.wal_status) + "</span>";
    }
    if (s.retained_bytes) {
      out += " <span class=\"muted\">(" +
             HumanBytes(static_cast<double>(*s.retained_bytes)) +
             " retained)</span>";
    }
    out += "</li>";
  }
  return out + "</ul>";
}

std::string Check(const char* name, const HealthVerdict& v) {
  return std::string("<span class=\"chk ") + (v.ok ? "chk-ok" : "chk-fail") +
         "\" title=\"" + HtmlEscape(v.reason) + "\">/" + name + " " +
         (v.ok ? "200" : "503") + "</span>";
}

std::string Ago(
    const StatusReport& r,
    const std::optional<InstanceSnapshot::WallClock::time_point>& t) {
  if (!t) return "never";
  double s = std::chrono::duration<double>(r.generated_at - *t).count();
  return Fmt("%.1f s ago", std::max(0.0, s));
}

// One instance box of the topology diagram.
std::string Node(const InstanceStatus& i, double x, double y) {
  const double w = 180;
  const char* stroke = !i.up                      ? "#d03030"
                       : i.role == Role::kPrimary ? "#3158c9"
                                                  : "#6b4fbb";
  std::string out =
      "<g class=\"node\" data-instance=\"" + HtmlEscape(i.name) + "\">";
  out += "<rect x=\"" + Fmt("%.1f", x) + "\" y=\"" + Fmt("%.1f", y) +
         "\" width=\"180\" height=\"78\" rx=\"8\" fill=\"#fff\" stroke=\"" +
         stroke + "\" stroke-width=\"2\"" +
         (i.up ? "" : " stroke-dasharray=\"5 3\"") + "/>";
  std::string name = i.name.size() > 24 ? i.name.substr(0, 23) + "~" : i.name;
  out += "<text x=\"" + Fmt("%.1f", x + 10) + "\" y=\"" + Fmt("%.1f", y + 20) +
         "\" font-size=\"13\" font-weight=\"600\">" + HtmlEscape(name) +
         "</text>";
  std::string line =
      RoleName(i.role) + std::string(i.up ? " \xc2\xb7 up" : " \xc2\xb7 DOWN");
  out += "<text x=\"" + Fmt("%.1f", x + 10) + "\" y=\"" + Fmt("%.1f", y + 38) +
         "\" font-size=\"12\" fill=\"" + (i.up ? "#5b6475" : "#d03030") +
         "\">" + HtmlEscape(line) + "</text>";
  if (i.role == Role::kReplica) {
    out += "<text x=\"" + Fmt("%.1f", x + 10) + "\" y=\"" +
           Fmt("%.1f", y + 54) + "\" font-size=\"11\" fill=\"#5b6475\">lag " +
           HtmlEscape(LagText(i)) + "</text>";
    out += LagBar(i, x + 10, y + 62, w - 20);
  } else if (i.role == Role::kPrimary) {
    int connected = 0;
    for (const auto& s : i.standbys) connected += s.connected ? 1 : 0;
    out += "<text x=\"" + Fmt("%.1f", x + 10) + "\" y=\"" +
           Fmt("%.1f", y + 56) + "\" font-size=\"11\" fill=\"#5b6475\">" +
           std::to_string(connected) + " of " +
           std::to_string(i.standbys.size()) + " standbys connected</text>";
  }
  return out + "</g>";
}

// Primaries on top, everything else below in rows of at most kPerRow;
// one line from a sole primary to each replica, green while its WAL
// receiver streams, dashed red when not (drawn first, under the boxes).
std::string Topology(const ClusterStatus& c) {
  constexpr size_t kPerRow = 6;
  std::vector<const InstanceStatus*> top, bottom;
  for (const auto& i : c.instances) {
    bool upper =
        i.role == Role::kPrimary ||
        (i.role == Role::kUnknown && i.configured_role == Role::kPrimary);
    (upper ? top : bottom).push_back(&i);
  }
  const double slot = 200, node_w = 180, row_h = 110;
  size_t columns =
      std::max<size_t>({top.size(), std::min(bottom.size(), kPerRow), 1});
  size_t rows = (bottom.size() + kPerRow - 1) / kPerRow;
  double width = columns * slot + 20;
  double height = 100 + rows * row_h;
  auto row_x = [&](size_t count, size_t index) {
    return (width - count * slot) / 2 + index * slot + (slot - node_w) / 2;
  };
  std::string edges, nodes;
  for (size_t j = 0; j < top.size(); ++j)
    nodes += Node(*top[j], row_x(top.size(), j), 10);
  for (size_t j = 0; j < bottom.size(); ++j) {
    const InstanceStatus& r = *bottom[j];
    size_t row = j / kPerRow;
    size_t in_row = std::min(kPerRow, bottom.size() - row * kPerRow);
    double x = row_x(in_row, j % kPerRow);
    double y = 120 + row * row_h;
    nodes += Node(r, x, y);
    if (top.size() != 1 || r.role != Role::kReplica)
      continue;  // upstream unclear
    bool streaming = r.replica_state == ReplicaState::kStreaming;
    double px = row_x(1, 0) + node_w / 2;
    edges += "<line x1=\"" + Fmt("%.1f", px) + "\" y1=\"88\" x2=\"" +
             Fmt("%.1f", x + node_w / 2) + "\" y2=\"" + Fmt("%.1f", y) +
             "\" stroke=\"" + (streaming ? "#2e9e44" : "#d03030") +
             "\" stroke-width=\"2\"" +
             (streaming ? "" : " stroke-dasharray=\"6 4\"") + "/>";
  }
  return "<svg class=\"topology\" width=\"" + Fmt("%.0f", width) +
         "\" height=\"" + Fmt("%.0f", height) + "\" viewBox=\"0 0 " +
         Fmt("%.0f", width) + " " + Fmt("%.0f", height) +
         "\" role=\"img\" aria-label=\"topology of cluster " +
         HtmlEscape(c.name) + "\">" + edges + nodes + "</svg>";
}

std::string ClusterSection(const StatusReport& r, const ClusterStatus& c) {
  std::string out = "<section class=\"cluster\" data-cluster=\"" +
                    HtmlEscape(c.name) + "\"><h2>Cluster " +
                    HtmlEscape(c.name) + "</h2>";
  if (c.primaries != 1) {
    out += "<p class=\"warn-text\">" + std::to_string(c.primaries) +
           (c.primaries == 0 ? " writable primaries: no primary is up"
                             : " writable primaries: split brain?") +
           "</p>";
  }
  out += Topology(c);
  out +=
      "<table class=\"instances\"><thead><tr><th>instance</th><th>role</th>"
      "<th>state</th><th>lag (limit " +
      HtmlEscape(r.lag_limit.text) +
      ")</th><th>WAL receiver</th><th>slots</th><th>health checks</th>"
      "<th>last poll</th></tr></thead><tbody>";
  for (const auto& i : c.instances) {
    out += "<tr class=\"instance\" data-instance=\"" + HtmlEscape(i.name) +
           "\" data-role=\"" + HtmlEscape(RoleName(i.role)) + "\" data-up=\"" +
           (i.up ? "1" : "0") + "\" data-lag-state=\"" +
           LagBandName(i.lag_band) + "\">";
    out += "<td class=\"name\"><b>" + HtmlEscape(i.name) + "</b>" +
           (i.discovered ? " <span class=\"muted\">(discovered)</span>" : "") +
           Aliases(i.aliases) + "</td>";
    out += "<td class=\"role\"><span class=\"badge b-" +
           HtmlEscape(RoleName(i.role)) + "\">" + HtmlEscape(RoleName(i.role)) +
           "</span></td>";
    out += std::string("<td class=\"state\"><span class=\"badge ") +
           (i.up ? "b-up\">up" : "b-down\">down") + "</span>";
    if (!i.last_error.empty())
      out += "<div class=\"err\">" + HtmlEscape(i.last_error) + "</div>";
    out += "</td><td class=\"lag\">" + LagCell(i) + "</td>";
    out += "<td class=\"receiver\">" + ReceiverCell(i) + "</td>";
    out += "<td class=\"slots\">" + SlotsCell(i) + "</td>";
    out += "<td class=\"checks\">" + Check("primary", i.primary_check) +
           Check("replica", i.replica_check) +
           Check("read-only", i.read_only_check) + "</td>";
    out += "<td class=\"polled\">" + Ago(r, i.last_poll) + "</td></tr>";
  }
  return out + "</tbody></table></section>";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderStatusPage(const StatusReport& report,
                             const std::string& telemetry_path) {
  std::string out =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"5\">"
      "<meta name=\"viewport\" content=\"width=device-width\">"
      "<title>pgrepl_exporter status</title><style>";
  out += kStyle;
  out +=
      "</style></head><body><header><h1>pgrepl_exporter</h1><span>last poll: "
      "<time id=\"last-poll\">";
  out += report.last_poll ? FormatTimestamp(*report.last_poll) : "none yet";
  out += "</time></span><span>replica lag limit " +
         HtmlEscape(report.lag_limit.text) + "</span><span><a href=\"" +
         HtmlEscape(telemetry_path) +
         "\">metrics</a> &middot; <a href=\"/status\">status JSON</a> &middot; "
         "<a href=\"/healthz\">healthz</a> &middot; <a "
         "href=\"/ready\">ready</a></span>"
         "<span class=\"muted\">" +
         HtmlEscape(Version()) + "</span></header><main>";
  if (report.clusters.empty()) out += "<p>No instances yet.</p>";
  for (const auto& c : report.clusters) out += ClusterSection(report, c);
  out +=
      "<p class=\"muted\">Lag bars span 0 to twice the limit; ticks mark 80% "
      "and "
      "100% of it. Green: under 80%, amber: under the limit, red: at or over "
      "it, "
      "unknown, or stream broken. The page reloads every 5 "
      "s.</p></main></body></html>\n";
  return out;
}

}  // namespace pgrepl
