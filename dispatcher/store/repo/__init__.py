"""Repository functions: async, keyword-only, in the caller's transaction, returning records.

async with db.session() as session:
    alert_id = await repo.insert_alert(session, alert=..., tasks=..., events=...)
    await session.commit()
"""

from dispatcher.store.repo.acks import (
    acks_for_alert,
    count_reached,
    reached_targets_of,
    record_acks,
)
from dispatcher.store.repo.alerts import (
    find_alert,
    get_alert,
    insert_alert,
    list_alerts,
    set_alert_state,
)
from dispatcher.store.repo.counters import next_counter
from dispatcher.store.repo.inventory import (
    get_adapter,
    get_terminal,
    inventory_version,
    list_adapters,
    list_terminals,
    mark_silent_offline,
    placements,
    terminal_regions,
    terminals_by_ebrid,
    touch_terminal,
    upsert_adapter,
    upsert_terminal,
    upsert_terminals,
)
from dispatcher.store.repo.links import (
    ensure_link,
    find_alert_by_ebmid,
    list_links,
    note_link,
    reports_for_alert,
    save_report,
    set_adapter_health,
)
from dispatcher.store.repo.log import (
    alert_timeline,
    append_log,
    delivered_targets,
    log_delivered,
    log_for_alert,
    log_page,
)
from dispatcher.store.repo.sightings import terminal_states, touch_terminals
from dispatcher.store.repo.tasks import (
    cancel_tasks,
    claim_due_tasks,
    due_task_count,
    get_task,
    release_worker_claims,
    sent_task_sizes,
    task_claim,
    task_state_counts,
    task_states,
    tasks_for_alert,
    tasks_past_deadline,
    unfinished_tasks,
    update_task,
)

__all__ = [
    "acks_for_alert",
    "alert_timeline",
    "append_log",
    "cancel_tasks",
    "claim_due_tasks",
    "count_reached",
    "delivered_targets",
    "due_task_count",
    "ensure_link",
    "find_alert",
    "find_alert_by_ebmid",
    "get_adapter",
    "get_alert",
    "get_task",
    "get_terminal",
    "insert_alert",
    "inventory_version",
    "list_adapters",
    "list_alerts",
    "list_links",
    "list_terminals",
    "log_delivered",
    "log_for_alert",
    "log_page",
    "mark_silent_offline",
    "next_counter",
    "note_link",
    "placements",
    "reached_targets_of",
    "record_acks",
    "release_worker_claims",
    "reports_for_alert",
    "save_report",
    "sent_task_sizes",
    "set_adapter_health",
    "set_alert_state",
    "task_claim",
    "task_state_counts",
    "task_states",
    "tasks_for_alert",
    "tasks_past_deadline",
    "terminal_regions",
    "terminal_states",
    "terminals_by_ebrid",
    "touch_terminal",
    "touch_terminals",
    "unfinished_tasks",
    "update_task",
    "upsert_adapter",
    "upsert_terminal",
    "upsert_terminals",
]
