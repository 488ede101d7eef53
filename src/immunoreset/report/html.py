"""The trial report: one self-contained ``report.html`` (figures embedded as PNG data URIs).

Sections: research-use disclaimer; design and assumptions; CONSORT-style flow; baseline table
per arm; Kaplan–Meier curves with numbers at risk; cumulative incidence; forest plot of hazard
ratios; score trajectories; blood counts (transplant arms); every endpoint with its note;
simulated vs published with pass/fail against the published 95 % CI; sensitivity note;
provenance. Whatever the model cannot produce yet is said in words, never drawn as a number.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import polars as pl

from immunoreset.trials.endpoints import (
    arm_frame,
    competing_risks,
    time_to_event,
    unavailable_reason,
)
from immunoreset.trials.spec import (
    DEFAULT_DAYS_RANDOMISATION_TO_INFUSION,
    ComparatorProtocol,
    CumulativeIncidenceEndpoint,
    SurvivalEndpoint,
    TransplantProtocol,
)

if TYPE_CHECKING:
    from immunoreset.trials.run import TrialResult

DISCLAIMER = ("Research software, not a medical device. Every number in this report is a model "
              "output under the stated assumptions, not a prediction or recommendation for any "
              "real patient.")
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.6em 1em}
.disclaimer{background:#fdecea;border-left:4px solid #d9534f;padding:.6em 1em}
.inside{background:#e6f4ea}.outside{background:#fdecea}.na{color:#777}
img{max-width:100%}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.8em}
.muted{color:#666;font-size:.9em}
"""


# ----------------------------------------------------------------------------- helpers

def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "–"
        return f"{x:.{digits}g}"
    return str(x)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[Any]], classes: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


# ----------------------------------------------------------------------------- sections

def _follow_up_text(res: TrialResult) -> str:
    s = res.spec
    med = res.flow.get("median_follow_up_years", math.nan)
    med_txt = ("" if med is None or not math.isfinite(med) else
               f"; simulated median follow-up {med:.2f} years (reverse Kaplan–Meier)")
    if s.accrual is None:
        return f"{s.follow_up_years:g} years for every patient{med_txt}"
    return (f"staggered entry, uniform over {s.accrual.years:g} years of accrual"
            + (f" ({_e(s.accrual.source)})" if s.accrual.source else "")
            + f"; data cut-off {s.max_follow_up_years:g} years after the first randomisation, "
              f"so follow-up ranges from {s.follow_up_years:g} to {s.max_follow_up_years:g} "
              f"years{med_txt}")


def _covariates_text(s) -> str:
    cov = s.population.covariates
    if cov is None:
        return (f"the disease's defaults (data/populations.yaml, {s.disease}; entry score "
                "from data/parameters.yaml), then screened")
    parts = []
    if cov.age_years is not None:
        parts.append(f"age mean {cov.age_years.mean:g}"
                     + (f", SD {cov.age_years.sd:g}" if cov.age_years.sd else "") + " years")
    if cov.female_fraction is not None:
        parts.append(f"female {cov.female_fraction:.0%}")
    if cov.progressive_fraction is not None:
        parts.append(f"progressive phenotype {cov.progressive_fraction:.0%}")
    if cov.disease_duration_years is not None:
        d = cov.disease_duration_years
        parts.append(f"disease duration median {d.median:g}"
                     + (f", CV {d.cv:g}" if d.cv else "") + " years")
    if cov.score_baseline is not None:
        parts.append(f"entry score mean {cov.score_baseline.mean:g}"
                     + (f", SD {cov.score_baseline.sd:g}" if cov.score_baseline.sd else ""))
    return ("the study's: " + "; ".join(parts) + f" ({cov.source}); other covariates the "
            "disease's defaults; then screened")


def _design(res: TrialResult) -> str:
    from immunoreset.trials.run import randomisation_text

    s = res.spec
    rows = [["disease", _e(s.disease)], ["design", _e(s.design)],
            ["patients randomised", _e(s.population.n)],
            ["follow-up (administrative censoring)", _follow_up_text(res)],
            ["drop-out", f"exponential, {s.dropout_per_year:g} per year"
             + (f" ({_e(s.dropout_source)})" if s.dropout_source else "")],
            ["randomisation", _e(randomisation_text(s))],
            ["baseline distributions", _e(_covariates_text(s))],
            ["seed", _e(res.seed)]]
    if s.citation:
        rows.insert(0, ["reproduces", _e(s.citation)])
    arms = []
    for a in s.arms:
        p = a.protocol
        if isinstance(p, TransplantProtocol):
            assumed = p.days_randomisation_to_infusion is None
            timing = f"{p.delay_days:g} days" + (
                " (<b>assumption</b>: not in the paper)" if assumed else "")
            if p.timing_source:
                timing += f"<br><span class='muted'>{_e(p.timing_source)}</span>"
            what = "<br>".join(_e(line) for line in p.to_protocol().describe().splitlines())
        else:
            assert isinstance(p, ComparatorProtocol)
            timing = "treatment starts at randomisation"
            what = ("comparator " + "<br>".join(_e(x) for x in p.describe().splitlines())
                    + (f"<br><span class='muted'>{_e(p.source)}</span>" if p.source else ""))
        arms.append([_e(a.name), f"{a.allocation:g}", _e(a.n_published), what, timing])
    sim_cols = sorted(c for c in res.patients.columns
                      if c.endswith("_day") and res.patients[c].null_count() < res.patients.height)
    changed = (res.provenance.get("parameters") or {}).get("changed_from_shipped") or {}
    assumptions = [
        "Trial time 0 is randomisation; outcome day columns are days after graft infusion, "
        "shifted by the randomisation-to-infusion interval "
        f"(default {DEFAULT_DAYS_RANDOMISATION_TO_INFUSION:g} days where the paper gives none).",
        "Death ends observation: it censors endpoints that do not count it and competes in "
        "cumulative incidences.",
        "Eligibility is checked only on covariates the model carries; the others are listed "
        "as not applied in the flow below.",
        "Model parameters are shared across all trials (data/parameters.yaml, each with its "
        "source); this spec carries only what the paper reports about design and population.",
        "Event columns simulated today: " + (", ".join(sim_cols) if sim_cols else "none") + ".",
    ]
    disease_lines = _disease_lines(s.disease, changed)
    if disease_lines:
        assumptions.append("Disease model (" + _e(s.disease) + "): "
                           + "; ".join(_e(x) for x in disease_lines) + ".")
    if changed:
        assumptions.insert(0, "<b>Not the shipped model:</b> run with parameters changed from "
                           "the shipped set: " + "; ".join(
                               f"{_e(k)} = {v['value']:g} (shipped {v['shipped']:g})"
                               for k, v in sorted(changed.items())) + ".")
    return ("<h2>Design and assumptions</h2>" + _table(["item", "value"], rows)
            + _table(["arm", "allocation", "n in paper", "protocol", "randomisation to "
                      "day 0"], arms)
            + "<ul>" + "".join(f"<li>{x}</li>" for x in assumptions) + "</ul>")


def _disease_lines(disease: str, changed: dict[str, dict[str, float]]) -> list[str]:
    """The disease layer's definitions and structural assumptions under the run's
    parameters (the shipped set with the run's changes); none for an unmodelled disease."""
    from immunoreset.diseases import disease_model
    from immunoreset.errors import InputError
    from immunoreset.parameters import shipped_parameters

    try:
        dm = disease_model(disease)
    except InputError:
        return []
    params = shipped_parameters().evolve_written(
        **{k: v["value"] for k, v in changed.items()})
    return dm.describe(params)


def _flow_figure(res: TrialResult) -> str:
    f = res.flow
    arms = list(f["arms"].items())
    fig, ax = plt.subplots(figsize=(10, 4.8))
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.5", "fc": "#f4f6fb", "ec": "#556"}

    def put(x: float, y: float, text: str) -> None:
        ax.text(x, y, text, ha="center", va="center", fontsize=9, bbox=box, wrap=True)

    put(0.5, 0.92, f"Screened (sampled virtual patients): {f['screened']}")
    put(0.82, 0.72, f"Excluded: {f['excluded']}\n(screen failure "
                    f"{100 * f['screen_failure_rate']:.1f} %)")
    put(0.5, 0.55, f"Randomised: {f['randomised']}")
    ax.annotate("", (0.5, 0.61), (0.5, 0.86), arrowprops={"arrowstyle": "->"})
    ax.annotate("", (0.7, 0.72), (0.5, 0.72), arrowprops={"arrowstyle": "->"})
    k = len(arms)
    for i, (name, a) in enumerate(arms):
        x = (i + 0.5) / k
        ax.annotate("", (x, 0.36), (0.5, 0.49), arrowprops={"arrowstyle": "->"})
        lines = [f"{name}: allocated {a['allocated']}"
                 + (f" (paper {a['n_published']})" if a.get("n_published") else ""),
                 "simulated" if a["simulated"] else "NOT simulated",
                 f"dropped out: {a['dropped_out']}"]
        if a.get("died") is not None:
            lines.append(f"died: {a['died']}; completed: {a['completed_follow_up']}")
        else:
            lines.append("deaths: not modelled")
        put(x, 0.2, "\n".join(lines))
    return _png(fig)


def _flow(res: TrialResult) -> str:
    f = res.flow
    rows, cls = [], []
    for c in f["criteria"]:
        applied = c["applied"]
        rows.append([_e(c["kind"]), _e(c["criterion"]) + (
            f"<br><span class='muted'>{_e(c['text'])}</span>" if c["text"] and c["text"] !=
            c["criterion"] else ""), _e(c["n_failed"]) if applied else "–",
            _e(c["note"]), _e(c["source"])])
        cls.append("" if applied else "na")
    arm_rows = [[_e(n), _e(a["allocated"]), _e(a.get("n_published")),
                 "yes" if a["simulated"] else "<b>no</b>", _e(a["dropped_out"]),
                 _e(a.get("died")) if a.get("died") is not None else "not modelled",
                 _fmt(a.get("median_follow_up_years")), _e(a["note"])]
                for n, a in f["arms"].items()]
    return ("<h2>CONSORT-style flow</h2>" + _flow_figure(res)
            + f"<p>Screen-failure rate: <b>{100 * f['screen_failure_rate']:.1f} %</b> "
              f"({f['excluded']} of {f['screened']} sampled patients). Only criteria on "
              "modelled covariates can fail; the rate is therefore not comparable with the "
              "published trial's.</p>"
            + _table(["kind", "criterion", "failed (first failed)", "status", "source"], rows,
                     cls)
            + _table(["arm", "allocated", "n in paper", "simulated", "dropped out", "died",
                      "median follow-up (years)", "note"], arm_rows))


_BASELINE = (("age_years", "age (years)"), ("weight_kg", "weight (kg)"),
             ("height_cm", "height (cm)"), ("bsa_m2", "body-surface area (m²)"),
             ("disease_duration_years", "disease duration (years)"),
             ("anc_per_uL", "ANC (/µL)"), ("platelets_per_uL", "platelets (/µL)"),
             ("hemoglobin_g_per_dL", "haemoglobin (g/dL)"),
             ("lymphocytes_per_uL", "lymphocytes (/µL)"),
             ("screening_score", "disease score at baseline"),
             ("score_baseline", "disease score at baseline"))


def _baseline(res: TrialResult) -> str:
    arms = [a.name for a in res.spec.arms]
    header = ["characteristic", *[f"{a} (n = {arm_frame(res.patients, a).height})"
                                  for a in arms]]
    rows = []
    fem = []
    for a in arms:
        df = arm_frame(res.patients, a)
        fem.append(f"{100 * (df['sex'] == 'F').mean():.0f} %" if df.height else "–")
    rows.append(["female", *fem])
    if "progressive" in res.patients.columns:
        rows.append(["progressive phenotype", *[
            f"{100 * arm_frame(res.patients, a)['progressive'].cast(pl.Float64).mean():.0f} %"
            if arm_frame(res.patients, a).height else "–" for a in arms]])
    for col, label in _BASELINE:
        if col not in res.patients.columns or (
                col == "score_baseline" and "screening_score" in res.patients.columns):
            continue  # the screened score is the simulated baseline (and known unsimulated)
        cells = []
        for a in arms:
            x = arm_frame(res.patients, a)[col].cast(pl.Float64).drop_nulls().to_numpy()
            x = x[np.isfinite(x)]
            if x.size == 0:
                cells.append("not modelled")
                continue
            q1, q2, q3 = np.percentile(x, [25, 50, 75])
            sd = float(np.std(x, ddof=1)) if x.size > 1 else 0.0
            cells.append(f"{_num(np.mean(x))} ({_num(sd)}); median {_num(q2)} "
                         f"[{_num(q1)}, {_num(q3)}]")
        rows.append([_e(label), *cells])
    return ("<h2>Baseline characteristics</h2><p class='muted'>mean (SD); median [IQR] of the "
            "randomised virtual patients.</p>" + _table(header, rows))


def _num(x: float) -> str:
    """Three significant digits; thousands separators instead of exponents."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _risk_times(follow_up: float) -> np.ndarray:
    step = 1.0 if follow_up > 3 else 0.5
    return np.arange(0.0, follow_up + 1e-9, step)


def _km_figure(res: TrialResult, e: SurvivalEndpoint) -> tuple[str, list[str]]:
    from immunoreset.trials.statistics import kaplan_meier

    fu = res.spec.max_follow_up_years
    times = _risk_times(fu)
    fig, (ax, tab) = plt.subplots(2, 1, figsize=(8, 5.2), height_ratios=[4, 1.1],
                                  constrained_layout=True)
    missing, drawn = [], []
    for i, arm in enumerate(a.name for a in res.spec.arms):
        df = arm_frame(res.patients, arm)
        why = unavailable_reason(df, e.needed_columns())
        if why:
            missing.append(f"{arm}: {why}")
            continue
        t, ev = time_to_event(df, e.events)
        km = kaplan_meier(t, ev, timepoints=[fu], risk_table_times=times)
        c = km.curve
        x, y = c["time_years"].to_numpy(), c["survival"].to_numpy()
        if e.report_as == "incidence":
            y = 1 - y
        ax.step(x, y, where="post", color=_color(i), lw=2, label=f"{arm} (n = {km.n})")
        lo, hi = c["ci_low"].to_numpy(), c["ci_high"].to_numpy()
        if e.report_as == "incidence":
            lo, hi = 1 - hi, 1 - lo
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(x[ok], lo[ok], hi[ok], step="post", color=_color(i), alpha=0.15)
        drawn.append((arm, km.risk_table["n_at_risk"].to_numpy(), i))
    if not drawn:
        plt.close(fig)
        return "", missing
    pad = 0.03 * fu
    ax.set_xlim(-pad, fu + pad)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("cumulative incidence" if e.report_as == "incidence" else "probability")
    ax.set_title(f"{e.name}: events {', '.join(e.events)} (Kaplan–Meier, 95 % CI)",
                 fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    tab.set_xlim(-pad, fu + pad)
    tab.set_ylim(-0.5, len(drawn) - 0.5)
    rows = len(drawn) - 1 - np.arange(len(drawn))  # first arm on top
    tab.set_yticks(rows, [d[0] for d in drawn], fontsize=8)
    tab.tick_params(axis="y", length=0, pad=14)
    tab.set_xticks(times)
    tab.set_xlabel("years from randomisation (numbers at risk)")
    for k, (_, counts, i) in zip(rows, drawn, strict=True):
        for t, n in zip(times, counts, strict=True):
            tab.text(t, k, str(int(n)), ha="center", va="center", fontsize=8, color=_color(i))
    for side in ("top", "right", "left"):
        tab.spines[side].set_visible(False)
    return _png(fig), missing


def _cif_figure(res: TrialResult, e: CumulativeIncidenceEndpoint) -> tuple[str, list[str]]:
    from immunoreset.trials.statistics import cumulative_incidence

    fu = res.spec.max_follow_up_years
    fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
    missing, n_drawn = [], 0
    for i, arm in enumerate(a.name for a in res.spec.arms):
        df = arm_frame(res.patients, arm)
        why = unavailable_reason(df, e.needed_columns())
        if why:
            missing.append(f"{arm}: {why}")
            continue
        t, code = competing_risks(df, e.event, e.competing)
        for cause, ls, label in ((1, "-", e.event), (2, "--", "competing")):
            r = cumulative_incidence(t, code, cause=cause, timepoints=[fu])
            c = r.curve
            ax.step(c["time_years"].to_numpy(), c["cif"].to_numpy(), where="post",
                    color=_color(i), ls=ls, lw=2 if cause == 1 else 1,
                    label=f"{arm}: {label}")
        n_drawn += 1
    if not n_drawn:
        plt.close(fig)
        return "", missing
    ax.set_xlim(0, fu)
    ax.set_ylim(0, None)
    ax.set_xlabel("years from randomisation")
    ax.set_ylabel("cumulative incidence")
    ax.set_title(f"{e.name}: {e.event} with competing {', '.join(e.competing)} "
                 "(Aalen–Johansen)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig), missing


def _curves(res: TrialResult) -> str:
    out = ["<h2>Survival: Kaplan–Meier curves with numbers at risk</h2>"]
    any_ep = False
    for e in res.spec.endpoints:
        if isinstance(e, SurvivalEndpoint):
            any_ep = True
            img, missing = _km_figure(res, e)
            out.append(f"<h3>{_e(e.name)}</h3>" + img)
            if missing:
                out.append("<p class='warn'>" + "<br>".join(_e(m) for m in missing) + "</p>")
    if not any_ep:
        out.append("<p class='na'>The spec has no survival endpoint.</p>")
    out.append("<h2>Cumulative incidence (competing risks)</h2>")
    any_ep = False
    for e in res.spec.endpoints:
        if isinstance(e, CumulativeIncidenceEndpoint):
            any_ep = True
            img, missing = _cif_figure(res, e)
            out.append(f"<h3>{_e(e.name)}</h3>" + img)
            if missing:
                out.append("<p class='warn'>" + "<br>".join(_e(m) for m in missing) + "</p>")
    if not any_ep:
        out.append("<p class='na'>The spec has no cumulative-incidence endpoint.</p>")
    return "".join(out)


def _forest(res: TrialResult) -> str:
    hr = res.endpoints.filter(pl.col("unit") == "hazard_ratio")
    head = "<h2>Hazard ratios (forest plot)</h2>"
    if hr.height == 0:
        return head + "<p class='na'>The spec has no hazard-ratio endpoint.</p>"
    ok = hr.filter(pl.col("estimate").is_finite() & pl.col("ci_low").is_finite()
                   & pl.col("ci_high").is_finite())
    missing = hr.filter(~pl.col("estimate").is_finite())
    parts = [head]
    if ok.height:
        refs = {(r["endpoint"], r["arm"], r["timepoint_years"]): r
                for r in res.comparison.iter_rows(named=True)}
        fig, ax = plt.subplots(figsize=(8, 0.45 * ok.height + 1.4), constrained_layout=True)
        labels = []
        for k, r in enumerate(ok.iter_rows(named=True)):
            y = ok.height - 1 - k
            m = re.search(r"interval \(([^\]]*)\] y", r["note"] or "")
            tp = f" ({m.group(1)}] y" if m else ("" if r["timepoint_years"] is None
                                                 else f" (≤{r['timepoint_years']:g} y)")
            labels.append(f"{r['endpoint']}{tp}: {r['arm']}")
            ax.plot([r["ci_low"], r["ci_high"]], [y, y], color="k", lw=1.5)
            ax.plot(r["estimate"], y, "s", color=_color(0), ms=7)
            ref = refs.get((r["endpoint"], r["arm"], r["timepoint_years"]))
            if ref and math.isfinite(ref["published"]):
                ax.plot([ref["published_ci_low"], ref["published_ci_high"]], [y - 0.25] * 2,
                        color=_color(1), lw=1)
                ax.plot(ref["published"], y - 0.25, "D", color=_color(1), ms=5)
        ax.axvline(1.0, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        ticks = [t for t in (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)
                 if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_yticks(range(ok.height)[::-1], labels, fontsize=8)
        ax.set_xlabel("hazard ratio, 95 % CI, log scale (squares: simulated; diamonds: "
                      "published)", fontsize=9)
        parts.append(_png(fig))
    if missing.height:
        parts.append("<p class='warn'>Not estimable: " + "<br>".join(
            _e(f"{r['endpoint']} {r['arm']}: {r['note']}") for r in
            missing.iter_rows(named=True)) + "</p>")
    return "".join(parts)


def _scores(res: TrialResult) -> str:
    cols = [("score_baseline", 0.0), ("score_y1", 1.0), ("score_y2", 2.0), ("score_y5", 5.0)]
    head = "<h2>Disease score trajectories</h2>"
    p = res.patients
    have = [(c, t) for c, t in cols if c in p.columns and p[c].null_count() < p.height]
    if len(have) < 2:
        return head + ("<p class='warn'>Not modelled yet (needs columns score_baseline, "
                       "score_y1, score_y2, score_y5 from the disease layer).</p>")
    fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
    for i, arm in enumerate(a.name for a in res.spec.arms):
        df = arm_frame(p, arm)
        t, med, lo, hi = [], [], [], []
        for c, tt in have:
            if c not in df.columns:
                continue
            x = df[c].cast(pl.Float64).drop_nulls().to_numpy()
            x = x[np.isfinite(x)]
            if x.size == 0:
                continue
            q = np.percentile(x, [25, 50, 75])
            t.append(tt)
            lo.append(q[0])
            med.append(q[1])
            hi.append(q[2])
        if t:
            ax.plot(t, med, "o-", color=_color(i), label=f"{arm} median")
            ax.fill_between(t, lo, hi, color=_color(i), alpha=0.2, label=f"{arm} IQR")
    name = p["score_name"].drop_nulls()[0] if "score_name" in p.columns and \
        p["score_name"].null_count() < p.height else "score"
    ax.set_xlabel("years after graft infusion (transplant) / randomisation (comparator)")
    ax.set_ylabel(f"{name} (points)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return head + "<p class='muted'>Median and interquartile range over virtual patients " \
                  "(population spread, not a confidence interval).</p>" + _png(fig)


def _blood(res: TrialResult) -> str:
    tr = res.trajectories
    head = "<h2>Blood counts after transplant</h2>"
    if tr is None or tr.height == 0:
        return head + "<p class='na'>No blood-count trajectories were kept.</p>"
    from immunoreset.report.figures import blood_counts_figure

    out = [head, "<p class='muted'>Median and 10–90 % band over the first virtual patients "
                 "of each arm. Day 0 is graft infusion for transplant arms and the first "
                 "treatment (randomisation) for comparator arms.</p>"]
    for arm in tr["arm"].unique(maintain_order=True).to_list():
        with tempfile.TemporaryDirectory() as d:
            path = blood_counts_figure(tr.filter(pl.col("arm") == arm), Path(d) / "b.png",
                                       title=f"arm {arm}")
            data = base64.b64encode(path.read_bytes()).decode("ascii")
        out.append(f'<img alt="blood counts" src="data:image/png;base64,{data}">')
    return "".join(out)


def _endpoint_table(res: TrialResult) -> str:
    rows, cls = [], []
    for r in res.endpoints.iter_rows(named=True):
        na = not (isinstance(r["estimate"], float) and math.isfinite(r["estimate"]))
        ci = "–" if na else f"{_fmt(r['ci_low'])} – {_fmt(r['ci_high'])}"
        rows.append([_e(r["endpoint"]), _e(r["arm"]), _fmt(r["timepoint_years"]),
                     "<b>not available</b>" if na else _fmt(r["estimate"]), ci, _e(r["unit"]),
                     _e(r["n"]), _e(r["note"])])
        cls.append("na" if na else "")
    return ("<h2>All endpoints (endpoints.csv)</h2>"
            + _table(["endpoint", "arm", "time (y)", "estimate", "95 % CI", "unit", "n",
                      "note"], rows, cls))


def _comparison(res: TrialResult) -> str:
    head = "<h2>Simulated vs published</h2>"
    c = res.comparison
    if c.height == 0:
        return head + "<p class='na'>The spec names no published reference values.</p>"
    rows, cls = [], []
    for r in c.iter_rows(named=True):
        status = r["status"]
        verdict = {"inside": "PASS (inside published CI)", "outside": "FAIL (outside)"}.get(
            status, status)
        pub_ci = (f"{_fmt(r['published_ci_low'])} – {_fmt(r['published_ci_high'])}"
                  if math.isfinite(r["published_ci_low"]) else "–")
        if r["published_ci"].startswith("derived"):
            pub_ci += f"<br><span class='muted'>{_e(r['published_ci'])}</span>"
        sim_ci = (f"{_fmt(r['simulated_ci_low'])} – {_fmt(r['simulated_ci_high'])}"
                  if math.isfinite(r["simulated"]) else "–")
        agree = ""
        if r["direction_agrees"] is not None:
            agree = ("same direction" if r["direction_agrees"] else "OPPOSITE direction")
            if r["significance_agrees"] is not None:
                agree += "; significance " + ("agrees" if r["significance_agrees"]
                                              else "differs")
        rows.append([_e(r["endpoint"]), _e(r["arm"]), _fmt(r["timepoint_years"]),
                     _fmt(r["published"]), pub_ci, _fmt(r["simulated"]), sim_ci,
                     _e(r["unit"]), f"<b>{_e(verdict)}</b>", _e(agree),
                     _e(r["source"]) + (f" ({_e(r['confidence'])})" if r["confidence"]
                                        else ""), _e(r["note"])])
        cls.append({"inside": "inside", "outside": "outside"}.get(status, "na"))
    n_in = int((c["status"] == "inside").sum())
    n_out = int((c["status"] == "outside").sum())
    n_na = c.height - n_in - n_out
    return (head + f"<p>{n_in} inside, {n_out} outside the published 95 % CI; {n_na} not "
            "comparable (not modelled yet, or no published CI). Misses are reported, not "
            "tuned away: parameters are shared across trials.</p>"
            + _table(["endpoint", "arm", "time (y)", "published", "published 95 % CI",
                      "simulated", "simulated 95 % CI", "unit", "result", "HR agreement",
                      "source", "note"], rows, cls))


def _sensitivity(res: TrialResult) -> str:
    return ("<h2>Sensitivity note</h2><p>This is one simulated trial at one seed. Its CIs are "
            "sampling intervals of a trial of this size, not model uncertainty: the model's "
            "parameters are held at their registry values. Repeat with other seeds (or "
            "<code>immunoreset trial power</code>) to see trial-to-trial variation; global "
            "sensitivity to parameters (SALib) and calibration (ABC) are separate analyses "
            "and have not been run for this report. Eligibility criteria that are not "
            "applied, the assumed randomisation-to-infusion interval and the fixed "
            "administrative censoring are design simplifications listed above.</p>")


def _provenance(res: TrialResult) -> str:
    prov = dict(res.provenance)
    return ("<h2>Provenance</h2><p class='muted'>Everything needed to re-run this trial; the "
            "spec is stored whole.</p><pre>" + _e(json.dumps(prov, indent=2, default=str))
            + "</pre>")


# ----------------------------------------------------------------------------- public

def render_report(result: TrialResult) -> str:
    """The report as one HTML string (no external resources)."""
    s = result.spec
    title = s.title or s.name
    not_sim = [n for n, a in result.flow["arms"].items() if not a["simulated"]]
    na = int((~result.endpoints["estimate"].is_finite()).sum())
    warn = ""
    if not_sim or na:
        warn = ("<p class='warn'><b>Partial model.</b> "
                + (f"Arms not simulated: {_e(', '.join(not_sim))}. " if not_sim else "")
                + (f"{na} of {result.endpoints.height} endpoint rows are not available yet "
                   "(see their notes); they are reported as missing, never filled in."
                   if na else "") + "</p>")
    body = "".join([
        f"<h1>In-silico trial: {_e(title)}</h1>",
        f"<p class='disclaimer'><b>Research use only.</b> {_e(DISCLAIMER)}</p>",
        warn,
        _design(result), _flow(result), _baseline(result), _curves(result),
        _forest(result), _scores(result), _blood(result), _comparison(result),
        _endpoint_table(result), _sensitivity(result), _provenance(result),
        f"<p class='disclaimer'>{_e(DISCLAIMER)}</p>",
    ])
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_e(title)} (immunoreset)</title><style>{_CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def write_report(result: TrialResult, path: str | Path) -> Path:
    """Write :func:`render_report` to ``path``."""
    p = Path(path)
    p.write_text(render_report(result), encoding="utf-8")
    return p
