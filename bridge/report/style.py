"""The HTML report's own style sheet and Content-Security-Policy (inline: the page loads nothing)."""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --head: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--fg); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 6px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
h3 { font-size: 15px; margin: 16px 0 5px; }
p { margin: 6px 0; }
.meta { color: var(--muted); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 5px 0 8px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
section.workflow { border: 1px solid var(--line); border-radius: 8px; padding: 14px 20px; margin: 18px 0; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #ffffff; background: #6e7781; white-space: nowrap; }
.verdict-match { background: #1a7f37; }
.verdict-mismatch { background: #cf222e; }
.verdict-shadow_failed { background: #bc4c00; }
.verdict-primary_failed { background: #8250df; }
.verdict-both_failed { background: #82071e; }
.verdict-none { background: #afb8c1; color: #1f2328; }
table.sides { width: auto; min-width: 60%; }
table.sides td.side { min-width: 260px; }
.bar { height: 8px; border-radius: 4px; margin-top: 4px; background: #8c959f; }
.bar.airflow { background: #017cee; }
.bar.prefect { background: #2b2ba8; }
tr.diff-row td, tr.key-row td { background: #ffffff; }
tr.kind-changed td, tr.kind-row_changed td { background: #fff3cd; }
tr.kind-type_changed td { background: #ffe0cc; }
tr.kind-only_airflow td { background: #dbeafe; }
tr.kind-only_prefect td { background: #ede4ff; }
tr.kind-noise td { background: #f0f0f0; color: #6e7781; }
tr.kind-ignored td { background: #f4f1ea; color: #6e7781; }
tr.kind-unknown td { background: #fde2e2; }
tr.kind-noise .kind, tr.kind-ignored .kind { font-style: italic; font-weight: 400; }
.counts { font-weight: 400; color: var(--fg); }
td.runs, th.runs, td.ids { white-space: nowrap; }
table.tables th.num { white-space: normal; }
table.tables td.name, table.tables td.key, table.tables td.scope { min-width: 9em; }
ul.calibrations { margin: 4px 0 8px; padding-left: 20px; }
td.note, td.value { white-space: pre-wrap; }
td.at code { white-space: nowrap; }
.kind { font-weight: 600; white-space: nowrap; }
td.absent { color: #8c959f; font-style: italic; }
tr.table-equal td.status { color: #1a7f37; font-weight: 600; }
tr.table-differs td.status, tr.table-error td.status, tr.table-one_side td.status { color: #cf222e;
  font-weight: 600; }
tr.table-excluded td { color: #6e7781; }
.empty { color: var(--muted); font-style: italic; }
a { color: #0969da; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
"""

#: The dashboard's additions (the same sheet: the static report ignores them).
CSS += """
nav.top { display: flex; justify-content: space-between; max-width: 1200px; margin: 0 auto 12px;
  padding-bottom: 8px; border-bottom: 1px solid var(--line); }
form.filters, form.move { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
figure.chart { margin: 6px 0 12px; overflow-x: auto; }
svg .grid { stroke: #d1d9e0; stroke-width: 1; }
svg .tick { font-size: 11px; fill: #59636e; }
svg .line { fill: none; stroke-width: 2; }
svg .line.airflow { stroke: #017cee; }
svg .line.prefect { stroke: #2b2ba8; }
svg .line.ran { stroke-dasharray: 5 4; }
svg .dot { fill: #6e7781; }
svg .dot.verdict-match { fill: #1a7f37; }
svg .dot.verdict-mismatch { fill: #cf222e; }
svg .dot.verdict-shadow_failed { fill: #bc4c00; }
svg .dot.verdict-primary_failed { fill: #8250df; }
svg .dot.verdict-both_failed { fill: #82071e; }
.key.airflow { color: #017cee; font-weight: 600; }
.key.prefect { color: #2b2ba8; font-weight: 600; }
.gate-unmet, tr.gate-unmet td { color: #cf222e; }
tr.gate-ok td { color: #1a7f37; }
td.task code.value { display: block; margin-top: 2px; }
.problem { font-weight: 600; }
table.workflows code, table.audit code, table.runs-side-by-side th code { white-space: nowrap; }
"""
