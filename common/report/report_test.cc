#include "common/report/report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace common::report {
namespace {

Claim MakeClaim(const std::string& paper, const std::string& name) {
  Claim c;
  c.paper = paper;
  c.name = name;
  c.statement = "A beats B <by far> & more";
  c.paper_number = "0.80 | 0.77";
  c.source = "specs/x.md §6";
  return c;
}

ClaimResult Result(const Claim& c, Outcome o) {
  ClaimResult r;
  r.claim = &c;
  r.outcome = std::move(o);
  r.verdict = VerdictOf(r.outcome);
  r.rerun_command = "./bazelw run //:reproduce -- --claims=" + c.Id();
  r.run_dirs = {"runs/" + c.paper + "/" + c.name + "/seed0"};
  return r;
}

Outcome WithCheck(double measured) {
  Outcome o;
  o.measured = "0.8";
  o.checks.push_back({"acc(A) - acc(B)", measured, Check::Op::kAtLeast, 0.01});
  o.tables.push_back({"per size", {"N", "A", "B"}, {{"50", "0.8", "0.77"}}});
  o.figures = {"figures/a.png"};
  return o;
}

// Every element opened is closed in order (void elements aside): the HTML is well-formed.
bool WellFormed(const std::string& html, std::string* error) {
  static const std::vector<std::string> kVoid = {"meta", "br", "img", "!DOCTYPE"};
  std::vector<std::string> stack;
  size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string::npos) {
    const size_t end = html.find('>', pos);
    if (end == std::string::npos) {
      *error = "unclosed '<'";
      return false;
    }
    std::string tag = html.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    const bool closing = !tag.empty() && tag[0] == '/';
    if (closing) tag = tag.substr(1);
    tag = tag.substr(0, tag.find(' '));
    if (std::find(kVoid.begin(), kVoid.end(), tag) != kVoid.end()) continue;
    if (tag == "style" && !closing) {  // CSS may hold '>': skip to its end
      pos = html.find("</style>", pos);
      if (pos == std::string::npos) {
        *error = "<style> never closed";
        return false;
      }
      pos += 8;
      continue;
    }
    if (!closing) {
      stack.push_back(tag);
    } else if (stack.empty() || stack.back() != tag) {
      *error = "</" + tag + "> closes " + (stack.empty() ? "nothing" : "<" + stack.back() + ">");
      return false;
    } else {
      stack.pop_back();
    }
  }
  if (!stack.empty()) *error = "<" + stack.back() + "> never closed";
  return stack.empty();
}

TEST(CheckTest, ThresholdsAndNaN) {
  EXPECT_TRUE((Check{"x", 0.5, Check::Op::kAtLeast, 0.5}).Passes());
  EXPECT_FALSE((Check{"x", 0.49, Check::Op::kAtLeast, 0.5}).Passes());
  EXPECT_TRUE((Check{"x", 0.49, Check::Op::kAtMost, 0.5}).Passes());
  EXPECT_FALSE((Check{"x", std::nan(""), Check::Op::kAtMost, 0.5}).Passes());
  EXPECT_FALSE((Check{"x", std::nan(""), Check::Op::kAtLeast, 0.5}).Passes());
}

TEST(VerdictTest, FromChecksAndReasons) {
  EXPECT_EQ(VerdictOf(WithCheck(0.02)), Verdict::kReproduced);
  EXPECT_EQ(VerdictOf(WithCheck(0.0)), Verdict::kNotReproduced);
  Outcome no_checks;
  no_checks.measured = "0.8";
  EXPECT_EQ(VerdictOf(no_checks), Verdict::kNotRun);
  Outcome skipped = WithCheck(0.02);
  skipped.not_run = "dataset missing";
  EXPECT_EQ(VerdictOf(skipped), Verdict::kNotRun);
}

TEST(ReportTest, EveryClaimRowVerdictsAndReasons) {
  const Claim a = MakeClaim("icnn", "learn"), b = MakeClaim("icnn", "search"),
              c = MakeClaim("implicit_dl", "tox");
  Outcome skipped;
  skipped.not_run = "Tox21 data not on this machine";
  const std::vector<ClaimResult> results = {Result(a, WithCheck(0.02)), Result(b, WithCheck(0.0)),
                                            Result(c, skipped)};
  ReportHeader header;
  header.command = "reproduce --scale=quick";
  header.paper_titles = {{"icnn", "Principled init of ICNNs"}};
  const std::string md = ReportMarkdown(header, results);
  EXPECT_TRUE(absl::StrContains(md, "## icnn: Principled init of ICNNs"));
  EXPECT_TRUE(absl::StrContains(md, "## implicit_dl\n"));
  EXPECT_TRUE(absl::StrContains(md, "| [learn](#icnn-learn) | 0.80 \\| 0.77 | 0.8 | reproduced |"));
  EXPECT_TRUE(
      absl::StrContains(md, "| [search](#icnn-search) | 0.80 \\| 0.77 | 0.8 | not reproduced |"));
  EXPECT_TRUE(absl::StrContains(md, "not run: Tox21 data not on this machine"));
  EXPECT_TRUE(absl::StrContains(md, "**Not reproduced: icnn.search.**"));
  EXPECT_TRUE(absl::StrContains(md, "3 claims: 1 reproduced, 1 not reproduced, 1 not run"));
  EXPECT_TRUE(absl::StrContains(md, "acc(A) - acc(B) = 0.02 >= 0.01: yes"));
  EXPECT_TRUE(absl::StrContains(md, "acc(A) - acc(B) = 0 >= 0.01: NO"));
  EXPECT_TRUE(absl::StrContains(md, "![figures/a.png](figures/a.png)"));
  EXPECT_TRUE(absl::StrContains(md, "| 50 | 0.8 | 0.77 |"));
  EXPECT_TRUE(absl::StrContains(md, "`./bazelw run //:reproduce -- --claims=icnn.search`"));
  EXPECT_TRUE(absl::StrContains(md, "[runs/icnn/learn/seed0](runs/icnn/learn/seed0)"));

  // The same claims, now all passing: no "not reproduced" banner.
  const std::vector<ClaimResult> good = {Result(a, WithCheck(0.02)), Result(b, WithCheck(0.01))};
  const std::string md_good = ReportMarkdown(header, good);
  EXPECT_FALSE(absl::StrContains(md_good, "Not reproduced"));
  EXPECT_TRUE(absl::StrContains(md_good, "Every claim that ran was reproduced"));
}

TEST(ReportTest, HtmlIsWellFormedAndEscaped) {
  const Claim a = MakeClaim("icnn", "learn"), b = MakeClaim("dwp", "fewshot");
  Outcome skipped;
  skipped.not_run = "no <data>";
  const std::vector<ClaimResult> results = {Result(a, WithCheck(0.0)), Result(b, skipped)};
  const std::string html = ReportHtml(ReportHeader{}, results);
  std::string error;
  EXPECT_TRUE(WellFormed(html, &error)) << error;
  EXPECT_TRUE(absl::StrContains(html, "A beats B &lt;by far&gt; &amp; more"));
  EXPECT_TRUE(absl::StrContains(html, "not run: no &lt;data&gt;"));
  EXPECT_TRUE(absl::StrContains(html, "<img src=\"figures/a.png\""));
  EXPECT_TRUE(absl::StrContains(html, "class=\"alert\"><b>Not reproduced: icnn.learn.</b>"));
  EXPECT_TRUE(absl::StrContains(html, "<style>"));  // inline CSS: self-contained
  // The checker itself rejects a broken document.
  EXPECT_FALSE(WellFormed("<html><p><b>x</p></b></html>", &error));
}

}  // namespace
}  // namespace common::report
