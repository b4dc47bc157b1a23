"""Alerts: a run's outcome and its sources' health as Prefect events, and the automation that notifies a team.

Events, emitted with Prefect's events API so that automations can act on them:

* ``mediawatch.run.degraded``: resource ``mediawatch.run.<run id>``; payload: the message, the counts and the
  failing sources;
* ``mediawatch.source.failing``: resource ``mediawatch.source.<source>``; payload: the source's figures (requests,
  failures by reason, items, words...);
* ``mediawatch.source.drift``: the same, with the drift findings;
* ``mediawatch.watch.spike`` and ``mediawatch.watch.first``: resource ``mediawatch.watch.<watch>``; payload: the
  alert (day, observed and expected stories, score, the entity of a first, the top titles). Only a new alert is
  emitted: a later run that updates a spike's count does not notify again (``flows/watch.py``).

The automation is declared in ``deployments/automations.yaml`` (Prefect's automation model, with the notification
block named rather than given by id) and created by ``mediawatch serve`` or ``mediawatch alerts``; it notifies
through a Custom Webhook block posting to ``MEDIAWATCH_ALERT_WEBHOOK_URL``.

Events reach the server the run reports to. An ad-hoc run without ``PREFECT_API_URL`` reports to a temporary
server that stops with the run, so its events reach no automation: alerts need deployments or a lasting server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from prefect.events import emit_event

from tasks.health import STATUS_DRIFT, STATUS_FAILING, Outcome, source_payload

EVENT_RUN_DEGRADED = "mediawatch.run.degraded"
EVENT_SOURCE_FAILING = "mediawatch.source.failing"
EVENT_SOURCE_DRIFT = "mediawatch.source.drift"
EVENT_WATCH_SPIKE = "mediawatch.watch.spike"
EVENT_WATCH_FIRST = "mediawatch.watch.first"
AUTOMATIONS_FILE = Path(__file__).resolve().parent.parent / "deployments" / "automations.yaml"
WEBHOOK_BLOCK_TYPE = "custom-webhook"
# What the webhook receives: Slack-style ``text`` plus the subject and body apart, for any receiver.
WEBHOOK_JSON = {"text": "{{subject}}\n{{body}}", "subject": "{{subject}}", "body": "{{body}}"}


def source_resource(row: Mapping[str, Any]) -> dict[str, str]:
    """Return the event resource of a source: its key as id and label, its name for display."""
    key = str(row["source"])
    return {
        "prefect.resource.id": f"mediawatch.source.{key}",
        "prefect.resource.name": str(row.get("name") or key),
        "mediawatch.source": key,
        "mediawatch.source.kind": str(row["kind"]),
    }


def emit_run_events(
    outcome: Outcome, rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], run_name: str
) -> list[str]:
    """Emit the run's events (degraded run, failing and drifting sources); return their names in order."""
    context = {"run_id": str(summary["run_id"]), "run_name": run_name}
    emitted: list[str] = []
    for row in rows:
        if row["status"] == STATUS_FAILING:
            name = EVENT_SOURCE_FAILING
        elif row["status"] == STATUS_DRIFT:
            name = EVENT_SOURCE_DRIFT
        else:
            continue
        emit_event(event=name, resource=source_resource(row), payload={**source_payload(row), **context})
        emitted.append(name)
    if outcome.kind == "degraded":
        counts = {k: summary[k] for k in ("items_in", "articles", "duplicates", "quarantined")}
        emit_event(
            event=EVENT_RUN_DEGRADED,
            resource={"prefect.resource.id": f"mediawatch.run.{summary['run_id']}", "prefect.resource.name": run_name},
            payload={**context, "message": outcome.message, **counts, "failing_sources": list(outcome.failing)},
        )
        emitted.append(EVENT_RUN_DEGRADED)
    return emitted


def emit_watch_events(alerts: Sequence[Mapping[str, Any]], run_name: str = "") -> list[str]:
    """Emit one event per new alert; return the event names in order."""
    names: list[str] = []
    for a in alerts:
        name = EVENT_WATCH_SPIKE if a["kind"] == "spike" else EVENT_WATCH_FIRST
        emit_event(
            event=name,
            resource={
                "prefect.resource.id": f"mediawatch.watch.{a['watch']}",
                "prefect.resource.name": str(a["watch"]),
                "mediawatch.watch": str(a["watch"]),
            },
            payload={
                "kind": a["kind"],
                "watch": a["watch"],
                "day": a["day"].isoformat(),
                "observed": a["observed"],
                "expected": a["expected"],
                "score": a["score"],
                "entity": a["entity_name"],
                "detail": a["detail"],
                "top_titles": list(a["top_titles"])[:3],
                "run_name": run_name,
            },
        )
        names.append(name)
    return names


def load_automations(path: Path = AUTOMATIONS_FILE) -> list[dict[str, Any]]:
    """Return the automations declared in ``path`` (a YAML file with a top-level ``automations`` list)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("automations") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"{path}: expected a top-level 'automations' list of mappings")
    return entries


def _webhook_block(reference: str, url: str) -> UUID:
    """Create or update the Custom Webhook block ``reference`` (``custom-webhook/<name>``) posting to ``url``."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block_type, _, name = reference.partition("/")
    if block_type != WEBHOOK_BLOCK_TYPE or not name:
        raise ValueError(f"notification block {reference!r}: expected {WEBHOOK_BLOCK_TYPE}/<name>")
    block = CustomWebhookNotificationBlock(name=name, url=url, method="POST", json_data=dict(WEBHOOK_JSON))
    block_id: UUID = block.save(name, overwrite=True)  # type: ignore[assignment]
    return block_id


def apply_automations(webhook_url: str, path: Path = AUTOMATIONS_FILE) -> list[str]:
    """Create (or replace, by name) the automations declared in ``path`` on the Prefect server this process
    talks to, with their notification blocks posting to ``webhook_url``; return the automations' names."""
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    created: list[str] = []
    with get_client(sync_client=True) as client:
        for entry in load_automations(path):
            actions = []
            for action in entry.get("actions", []):
                action = dict(action)
                reference = action.pop("block", None)
                if reference is not None:
                    action["block_document_id"] = str(_webhook_block(str(reference), webhook_url))
                actions.append(action)
            automation = AutomationCore.model_validate({**entry, "actions": actions})
            for existing in client.read_automations_by_name(automation.name):
                client.delete_automation(existing.id)
            client.create_automation(automation)
            created.append(automation.name)
    return created
