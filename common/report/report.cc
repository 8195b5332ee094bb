#include "common/report/report.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

namespace common::report {
namespace {

// The papers in order of first appearance, each with its results.
std::vector<std::pair<std::string, std::vector<const ClaimResult*>>> ByPaper(
    const std::vector<ClaimResult>& results) {
  std::vector<std::pair<std::string, std::vector<const ClaimResult*>>> out;
  for (const ClaimResult& r : results) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const auto& p) { return p.first == r.claim->paper; });
    if (it == out.end()) it = out.insert(out.end(), {r.claim->paper, {}});
    it->second.push_back(&r);
  }
  return out;
}

std::string TitleOf(const ReportHeader& header, const std::string& paper) {
  for (const auto& [id, title] : header.paper_titles) {
    if (id == paper) return absl::StrCat(id, ": ", title);
  }
  return paper;
}

std::string Duration(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  return s >= 60 ? absl::StrFormat("%d min %02d s", s / 60, s % 60) : absl::StrFormat("%d s", s);
}

// "31 min 02 s for 159 runs", or with reused runs "8 s (this command; 157 of 159 runs reused from
// an earlier one)".
std::string WallTime(const ReportHeader& h) {
  if (h.runs_reused == 0) return absl::StrCat(Duration(h.seconds), " for ", h.runs, " runs");
  return absl::StrCat(Duration(h.seconds), " (this command; ", h.runs_reused, " of ", h.runs,
                      " runs reused from an earlier one)");
}

std::string OurNumber(const ClaimResult& r) {
  return r.outcome.not_run.empty() ? r.outcome.measured
                                   : absl::StrCat("not run: ", r.outcome.not_run);
}

std::string VerdictText(const ClaimResult& r) {
  return r.verdict == Verdict::kNotRun && !r.outcome.not_run.empty()
             ? absl::StrCat("not run: ", r.outcome.not_run)
             : VerdictName(r.verdict);
}

std::vector<std::string> NotReproduced(const std::vector<ClaimResult>& results) {
  std::vector<std::string> ids;
  for (const ClaimResult& r : results) {
    if (r.verdict == Verdict::kNotReproduced) ids.push_back(r.claim->Id());
  }
  return ids;
}

std::string Counts(const std::vector<ClaimResult>& results) {
  std::map<Verdict, int> n;
  for (const ClaimResult& r : results) ++n[r.verdict];
  return absl::StrFormat("%d claims: %d reproduced, %d not reproduced, %d not run", results.size(),
                         n[Verdict::kReproduced], n[Verdict::kNotReproduced], n[Verdict::kNotRun]);
}

bool IsImage(const std::string& path) {
  return absl::EndsWith(path, ".png") || absl::EndsWith(path, ".svg");
}

// ---- Markdown ----

std::string Cell(const std::string& s) {
  return absl::StrReplaceAll(s, {{"|", "\\|"}, {"\n", " "}});
}

std::string MdRow(const std::vector<std::string>& cells) {
  std::vector<std::string> escaped;
  for (const std::string& c : cells) escaped.push_back(Cell(c));
  return absl::StrCat("| ", absl::StrJoin(escaped, " | "), " |\n");
}

std::string MdTable(const Table& t) {
  std::string out;
  if (!t.caption.empty()) absl::StrAppend(&out, "\n", t.caption, "\n\n");
  absl::StrAppend(&out, MdRow(t.header), "|");
  for (size_t i = 0; i < t.header.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& row : t.rows) out += MdRow(row);
  return out;
}

std::string Anchor(const Claim& c) { return absl::StrCat(c.paper, "-", c.name); }

// ---- HTML ----

std::string Esc(const std::string& s) {
  return absl::StrReplaceAll(
      s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}});
}

std::string HtmlTable(const Table& t) {
  std::string out = "<table>";
  if (!t.caption.empty()) absl::StrAppend(&out, "<caption>", Esc(t.caption), "</caption>");
  out += "<thead><tr>";
  for (const std::string& h : t.header) absl::StrAppend(&out, "<th>", Esc(h), "</th>");
  out += "</tr></thead><tbody>";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (const std::string& c : row) absl::StrAppend(&out, "<td>", Esc(c), "</td>");
    out += "</tr>";
  }
  return out + "</tbody></table>\n";
}

const char* VerdictClass(Verdict v) {
  switch (v) {
    case Verdict::kReproduced:
      return "ok";
    case Verdict::kNotReproduced:
      return "bad";
    case Verdict::kNotRun:
      return "skip";
  }
  return "skip";
}

constexpr char kCss[] = R"css(
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}h3{margin-top:1.5em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}caption{text-align:left;font-style:italic;padding:.2em 0}
code{background:#f5f5f5;padding:0 .2em;word-break:break-all}
.ok{color:#11691f;font-weight:600}.bad{color:#b00020;font-weight:600}.skip{color:#777}
.alert{border:2px solid #b00020;padding:.5em 1em;background:#fff3f3}
.fine{border:2px solid #11691f;padding:.5em 1em;background:#f3fff3}
img{max-width:100%;border:1px solid #ddd;margin:.4em 0}
)css";

}  // namespace

std::string ReportMarkdown(const ReportHeader& header, const std::vector<ClaimResult>& results) {
  std::string out = absl::StrCat("# ", header.title, " (", ScaleName(header.scale), " scale)\n\n");
  absl::StrAppend(&out, "`", header.command, "`  \n", header.date, " · ", header.machine, " · ",
                  WallTime(header), "\n\n");
  const std::vector<std::string> bad = NotReproduced(results);
  if (bad.empty()) {
    absl::StrAppend(&out, "**Every claim that ran was reproduced.** ", Counts(results), ".\n");
  } else {
    absl::StrAppend(&out, "**Not reproduced: ", absl::StrJoin(bad, ", "), ".** ", Counts(results),
                    ".\n");
  }
  for (const auto& [paper, rs] : ByPaper(results)) {
    absl::StrAppend(&out, "\n## ", TitleOf(header, paper), "\n\n");
    out += MdRow({"claim", "paper", "ours", "verdict"});
    out += "|---|---|---|---|\n";
    for (const ClaimResult* r : rs) {
      out += MdRow({absl::StrCat("[", r->claim->name, "](#", Anchor(*r->claim), ")"),
                    r->claim->paper_number, OurNumber(*r), VerdictText(*r)});
    }
    for (const ClaimResult* r : rs) {
      const Claim& c = *r->claim;
      absl::StrAppend(&out, "\n<a id=\"", Anchor(c), "\"></a>\n### ", c.Id(), ": ", VerdictText(*r),
                      "\n\n");
      absl::StrAppend(&out, "**Paper** (", c.source, "): ", c.statement, "  \n");
      absl::StrAppend(&out, "**Paper's number:** ", c.paper_number, "  \n");
      absl::StrAppend(&out, "**Ours:** ", OurNumber(*r), "\n");
      if (!r->outcome.checks.empty()) {
        out += "\nChecks (thresholds fixed in the claim's code):\n\n";
        for (const Check& k : r->outcome.checks) absl::StrAppend(&out, "- ", k.Text(), "\n");
      }
      for (const Table& t : r->outcome.tables) out += MdTable(t);
      for (const std::string& f : r->outcome.figures) {
        absl::StrAppend(&out, "\n", IsImage(f) ? "!" : "", "[", f, "](", f, ")\n");
      }
      absl::StrAppend(&out, "\nRe-run only this claim: `", r->rerun_command, "`\n");
      if (!r->run_dirs.empty()) {
        std::vector<std::string> links;
        for (const std::string& d : r->run_dirs)
          links.push_back(absl::StrCat("[", d, "](", d, ")"));
        absl::StrAppend(&out, "\nRuns: ", absl::StrJoin(links, ", "), "\n");
      }
    }
  }
  return out;
}

std::string ReportHtml(const ReportHeader& header, const std::vector<ClaimResult>& results) {
  const std::string title = absl::StrCat(header.title, " (", ScaleName(header.scale), " scale)");
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", Esc(title),
      "</title>\n<style>", kCss, "</style>\n</head>\n<body>\n<h1>", Esc(title), "</h1>\n");
  absl::StrAppend(&out, "<p><code>", Esc(header.command), "</code><br>", Esc(header.date), " · ",
                  Esc(header.machine), " · ", Esc(WallTime(header)), "</p>\n");
  const std::vector<std::string> bad = NotReproduced(results);
  if (bad.empty()) {
    absl::StrAppend(&out, "<p class=\"fine\">Every claim that ran was reproduced. ",
                    Esc(Counts(results)), ".</p>\n");
  } else {
    absl::StrAppend(&out, "<p class=\"alert\"><b>Not reproduced: ", Esc(absl::StrJoin(bad, ", ")),
                    ".</b> ", Esc(Counts(results)), ".</p>\n");
  }
  for (const auto& [paper, rs] : ByPaper(results)) {
    absl::StrAppend(&out, "<h2>", Esc(TitleOf(header, paper)), "</h2>\n");
    out +=
        "<table><thead><tr><th>claim</th><th>paper</th><th>ours</th><th>verdict</th></tr>"
        "</thead><tbody>\n";
    for (const ClaimResult* r : rs) {
      absl::StrAppend(&out, "<tr><td><a href=\"#", Anchor(*r->claim), "\">", Esc(r->claim->name),
                      "</a></td><td>", Esc(r->claim->paper_number), "</td><td>", Esc(OurNumber(*r)),
                      "</td><td class=\"", VerdictClass(r->verdict), "\">", Esc(VerdictText(*r)),
                      "</td></tr>\n");
    }
    out += "</tbody></table>\n";
    for (const ClaimResult* r : rs) {
      const Claim& c = *r->claim;
      absl::StrAppend(&out, "<h3 id=\"", Anchor(c), "\">", Esc(c.Id()), ": <span class=\"",
                      VerdictClass(r->verdict), "\">", Esc(VerdictText(*r)), "</span></h3>\n");
      absl::StrAppend(&out, "<p><b>Paper</b> (", Esc(c.source), "): ", Esc(c.statement),
                      "<br><b>Paper's number:</b> ", Esc(c.paper_number), "<br><b>Ours:</b> ",
                      Esc(OurNumber(*r)), "</p>\n");
      if (!r->outcome.checks.empty()) {
        out += "<p>Checks (thresholds fixed in the claim's code):</p>\n<ul>\n";
        for (const Check& k : r->outcome.checks) {
          absl::StrAppend(&out, "<li class=\"", k.Passes() ? "ok" : "bad", "\">", Esc(k.Text()),
                          "</li>\n");
        }
        out += "</ul>\n";
      }
      for (const Table& t : r->outcome.tables) out += HtmlTable(t);
      for (const std::string& f : r->outcome.figures) {
        if (IsImage(f)) {
          absl::StrAppend(&out, "<p><img src=\"", Esc(f), "\" alt=\"", Esc(f), "\"></p>\n");
        } else {
          absl::StrAppend(&out, "<p><a href=\"", Esc(f), "\">", Esc(f), "</a></p>\n");
        }
      }
      absl::StrAppend(&out, "<p>Re-run only this claim: <code>", Esc(r->rerun_command),
                      "</code></p>\n");
      if (!r->run_dirs.empty()) {
        out += "<p>Runs:";
        for (const std::string& d : r->run_dirs) {
          absl::StrAppend(&out, " <a href=\"", Esc(d), "\">", Esc(d), "</a>");
        }
        out += "</p>\n";
      }
    }
  }
  return out + "</body>\n</html>\n";
}

absl::Status WriteReport(const std::string& dir, const ReportHeader& header,
                         const std::vector<ClaimResult>& results) {
  RETURN_IF_ERROR(data::MakeDirs(dir));
  RETURN_IF_ERROR(data::WriteFileAtomically(dir + "/report.md", ReportMarkdown(header, results)));
  return data::WriteFileAtomically(dir + "/index.html", ReportHtml(header, results));
}

}  // namespace common::report
