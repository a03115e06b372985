#!/usr/bin/env python3
"""Regenerates corpus.json, the pinned x509-limbo selection run by tests/x509-limbo.test.ts.

Usage: python3 regenerate.py <x509-limbo checkout> [--at 2026-12-03T09:30:00Z]

Needs python3 with `cryptography` and `pydantic` 2 (the suite's own generator is imported from the
checkout). No other PyPI package: the CLI module (requests) and the bettertls/online cases (large data
files) are not imported. Keys are fresh on every run, so a regenerated corpus differs byte for byte;
the expected results do not.
"""

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

# Cases left out of the selection, by id prefix, with the reason. Keep docs in README.md in step.
OUT_OF_SCOPE = [
    ("crl::", "CRL-based revocation: attestation chains are checked by OCSP (@cv/crypto/ocsp), validateChain takes no CRLs"),
    ("webpki::san::", "peer-name (hostname/IP) matching: validateChain matches no peer name; ECU identity is the leaf CN"),
    ("webpki::cn::", "peer-name (hostname/IP) matching against the CN"),
    ("rfc5280::ca-as-leaf-wrong-san", "peer-name matching (the SAN differs from the expected host name)"),
    ("rfc5280::san::ip-in-dns", "peer-name matching (an IP peer name against a dNSName SAN)"),
    ("webpki::eku::", "CA/B Forum TLS server profile (serverAuth EKU rules); not the attestation profile"),
    ("webpki::aki::root-with-aki-authoritycert", "CA/B Forum root profile (authorityCertIssuer/SerialNumber in a root's AKI); RFC 5280 allows them"),
    ("webpki::aki::root-with-aki-all-fields", "CA/B Forum root profile (authorityCertIssuer/SerialNumber in a root's AKI); RFC 5280 allows them"),
    ("invalid::", "not generated: the suite's generator fails on this machine's cryptography version"),
]

KEEP_FIELDS = (
    "id",
    "features",
    "conflicts_with",
    "expected_result",
    "validation_time",
    "trusted_certs",
    "untrusted_intermediates",
    "peer_certificate",
    "key_usage",
    "extended_key_usage",
    "max_chain_depth",
)


def reason_for(case_id: str) -> str | None:
    for prefix, reason in OUT_OF_SCOPE:
        if case_id.startswith(prefix):
            return reason
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--at", help="validation time for cases that give none (ISO 8601, UTC)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("corpus.json"))
    args = parser.parse_args()
    sys.path.insert(0, str(args.checkout))
    from limbo.testcases import registry  # noqa: E402  (the suite's own generator)

    at = args.at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    cases, excluded, broken = [], [], []
    for case_id, build in registry.items():
        reason = reason_for(case_id)
        if reason is not None:
            excluded.append({"id": case_id, "reason": reason})
            continue
        try:
            testcase = build()
        except Exception as error:  # a generator that does not run here
            broken.append({"id": case_id, "reason": f"generator failed: {error}"})
            continue
        data = json.loads(testcase.model_dump_json())
        out = {k: data[k] for k in KEEP_FIELDS}
        out["description"] = " ".join(data["description"].split())[:240]
        if out["validation_time"] is None:
            out["validation_time"] = at
        cases.append(out)
    corpus = {
        "source": "https://github.com/C2SP/x509-limbo (Apache-2.0)",
        "generated_at": at,
        "excluded": excluded + broken,
        "cases": cases,
    }
    out_path = args.out
    out_path.write_text(json.dumps(corpus, indent=1) + "\n")
    print(f"{len(cases)} cases, {len(excluded) + len(broken)} excluded -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
