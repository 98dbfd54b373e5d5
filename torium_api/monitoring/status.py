"""What ``flask ops status`` shows: is the background work alive, and is anything piling up?

Four sections, each collected on its own so one unreachable dependency does not hide the others: the
heartbeats (per loop and process: age, stale or not, last error), the outbox backlog (unsent rows, the age of
the oldest), the dead-letter queues' depths (SQS ``ApproximateNumberOfMessages``) and the scheduler's last run
per job. Ages come from the database's clock, like the rows they compare.
"""

from flask import current_app
from sqlalchemy import func, select

from torium_api import aws, queues
from torium_api.extensions import db
from torium_api.monitoring.models import Heartbeat
from torium_api.outbox import backlog


def collect() -> dict:
    report = {}
    for name, section in (("heartbeats", _heartbeats), ("outbox", _outbox), ("dead_letter_queues", _dead_letters),
                          ("scheduled_jobs", _scheduled_jobs)):
        try:
            report[name] = section()
        except Exception as exc:  # noqa: BLE001 - say what is unreachable instead of failing the whole report
            db.session.rollback()
            report[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
    report["ok"] = _ok(report)
    return report


def expected_components() -> list[str]:
    return ["relay", "scheduler", *(f"consumer:{q.key}" for q in queues.ALL)]


def _heartbeats() -> dict:
    stale_after = current_app.config["HEARTBEAT_STALE_SECONDS"]
    age = func.extract("epoch", func.now() - Heartbeat.last_beat_at)
    rows = db.session.execute(select(Heartbeat, age).order_by(Heartbeat.component, Heartbeat.host, Heartbeat.pid))
    beats = [{"component": beat.component, "host": beat.host, "pid": beat.pid, "started_at": beat.started_at,
              "last_beat_at": beat.last_beat_at, "age_seconds": None if seconds is None else round(float(seconds), 1),
              "stale": seconds is None or float(seconds) > stale_after, "last_error": beat.last_error,
              "last_error_at": beat.last_error_at} for beat, seconds in rows]
    for beat in beats:  # a stale row whose loop was since restarted on the same host (a new pid): history
        beat["superseded"] = beat["stale"] and any(
            other["component"] == beat["component"] and other["host"] == beat["host"]
            and other["started_at"] > beat["started_at"] for other in beats)
    live = {b["component"] for b in beats if not b["stale"]}
    return {"stale_after_seconds": stale_after, "processes": beats,
            "missing": [c for c in expected_components() if c not in live]}


def _outbox() -> dict:
    measured = backlog.measure()
    return {"unsent": measured.unsent, "oldest_unsent_age_seconds": round(measured.oldest_age_seconds, 1),
            "max_attempts": measured.max_attempts, "oldest_error": backlog.oldest_error() if measured.unsent else None}


def _dead_letters() -> list[dict]:
    sqs, depths, unreachable = aws.client("sqs"), [], None
    for queue in queues.ALL:
        row = {"queue": queue.name, "dlq": queue.dlq_name}
        if unreachable is None:
            try:
                url = queues.dlq_url(queue)
                attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                row["messages"] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
            except Exception as exc:  # noqa: BLE001 - one failure is enough: do not wait on every queue
                unreachable = f"SQS unreachable: {type(exc).__name__}: {str(exc)[:200]}"
        if unreachable is not None:
            row["error"] = unreachable
        depths.append(row)
    return depths


def _scheduled_jobs() -> list[dict]:
    from torium_api.workers import PERIODIC_JOBS
    from torium_api.workers.scheduler import ScheduledJob

    since = func.extract("epoch", func.now() - ScheduledJob.last_run_at)
    rows = {job.name: (job, seconds) for job, seconds in db.session.execute(select(ScheduledJob, since))}
    jobs = []
    for periodic in PERIODIC_JOBS:
        job, seconds = rows.get(periodic.name, (None, None))
        jobs.append({"name": periodic.name, "every_seconds": periodic.every.total_seconds(),
                     "last_run_at": job and job.last_run_at, "next_run_at": job and job.next_run_at,
                     "seconds_since_last_run": None if seconds is None else round(float(seconds), 1)})
    return jobs


def _ok(report: dict) -> bool:
    if any(isinstance(section, dict) and "error" in section for section in report.values()):
        return False
    dead = report["dead_letter_queues"]
    return (not report["heartbeats"]["missing"] and report["outbox"]["oldest_unsent_age_seconds"] < 300
            and all(row.get("messages") == 0 for row in dead))


def render(report: dict) -> str:
    """The report as text for a terminal."""
    lines = [f"background: {'OK' if report['ok'] else 'ATTENTION'}", ""]
    lines += _render_heartbeats(report["heartbeats"]) + [""]
    lines += _render_outbox(report["outbox"]) + [""]
    lines += _render_dead_letters(report["dead_letter_queues"]) + [""]
    lines += _render_jobs(report["scheduled_jobs"])
    return "\n".join(lines)


def _render_heartbeats(section) -> list[str]:
    if "error" in section:
        return ["heartbeats: database unreachable: " + section["error"]]
    lines = [f"heartbeats (stale after {section['stale_after_seconds']:.0f} s)"]
    for beat in section["processes"]:
        if beat["superseded"]:
            continue
        age = "never" if beat["age_seconds"] is None else f"{beat['age_seconds']:.0f} s ago"
        state = "STALE" if beat["stale"] else "ok"
        error = f"  last error {_when(beat['last_error_at'])}: {beat['last_error']}" if beat["last_error"] else ""
        lines.append(f"  {beat['component']:<24} {beat['host']}:{beat['pid']:<8} {state:<5} beat {age}{error}")
    restarted = sum(beat["superseded"] for beat in section["processes"])
    if restarted:
        lines.append(f"  ({restarted} stale rows of processes since restarted on the same host not shown; --json)")
    if section["missing"]:
        lines.append("  NO LIVE PROCESS: " + ", ".join(section["missing"]))
    return lines


def _render_outbox(section) -> list[str]:
    if "error" in section:
        return ["outbox: database unreachable: " + section["error"]]
    line = (f"outbox: {section['unsent']} unsent, oldest {section['oldest_unsent_age_seconds']:.0f} s old"
            f", most attempts {section['max_attempts']}")
    return [line] + ([f"  oldest error: {section['oldest_error']}"] if section["oldest_error"] else [])


def _render_dead_letters(rows) -> list[str]:
    if isinstance(rows, dict):
        return ["dead-letter queues: " + rows["error"]]
    return ["dead-letter queues"] + [f"  {row['dlq']:<36} " + (str(row["messages"]) if "messages" in row
                                                                else row["error"]) for row in rows]


def _render_jobs(rows) -> list[str]:
    if isinstance(rows, dict):
        return ["scheduled jobs: database unreachable: " + rows["error"]]
    lines = ["scheduled jobs (last run)"]
    for job in rows:
        since = "never" if job["seconds_since_last_run"] is None else f"{job['seconds_since_last_run']:.0f} s ago"
        lines.append(f"  {job['name']:<28} every {job['every_seconds']:>6.0f} s   last {since}")
    return lines


def _when(moment) -> str:
    return moment.isoformat(timespec="seconds") if moment else "?"
