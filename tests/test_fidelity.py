"""Fidelity corpus: our detections find every attack and flag nothing benign; Splunk's do not.

The corpus is bench/corpus/; Splunk's logic is ported in bench/splunk_logic.py. A case our
detection gets wrong is not hidden: it is listed in KNOWN_GAPS with the reason, and runs as xfail.
"""

from __future__ import annotations

import pytest

from bench.fidelity import corpus, measure, ours, splunk

CASES = [(detection, case) for detection, cases in corpus().items() for case in cases]
# (detection, case name) -> why our detection gets it wrong. Empty: none known.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _param(detection: str, case: dict) -> pytest.param:
    """One test per case, named by detection and case, xfail when it is a known gap."""
    gap = KNOWN_GAPS.get((detection, case["name"]))
    marks = [pytest.mark.xfail(reason=gap, strict=True)] if gap else []
    return pytest.param(detection, case, id=f"{detection}: {case['name']}", marks=marks)


@pytest.mark.parametrize(("detection", "case"), [_param(d, c) for d, c in CASES])
def test_our_detection_fires_on_every_attack_and_on_no_benign_case(
    detection: str, case: dict
) -> None:
    assert ours(detection, case) is (case["label"] == "attack")


def test_the_corpus_covers_all_twelve_detections_with_both_labels() -> None:
    found = corpus()

    assert len(found) == 12
    for detection, cases in found.items():
        assert 5 <= len(cases) <= 15, detection
        assert {case["label"] for case in cases} == {"attack", "benign"}, detection
        assert len({case["name"] for case in cases}) == len(cases), detection


@pytest.mark.parametrize("detection", sorted(corpus()))
def test_splunks_logic_misses_or_false_alarms_on_at_least_one_case(detection: str) -> None:
    cases = corpus()[detection]

    wrong = [c["name"] for c in cases if splunk(detection, c) is not (c["label"] == "attack")]

    assert wrong, f"the corpus no longer shows how {detection} improves on Splunk"


def test_measure_counts_the_attacks_found_and_benign_cases_flagged_per_side() -> None:
    results = measure()

    row = results["kubernetes_nginx_ingress_rfi"]
    assert row["attacks"] + row["benign"] == len(corpus()["kubernetes_nginx_ingress_rfi"])
    assert row["ours"]["found"] == row["attacks"] - len(
        [n for (d, n) in KNOWN_GAPS if d == "kubernetes_nginx_ingress_rfi"]
    )
    assert row["splunk"]["flagged"] > 0
