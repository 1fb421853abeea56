"""The Celery application of an instance: broker, queues, and the delivery guarantees the tasks rely on.

Queues: one per language pair, `translate.<source>-<target>` (a worker consumes the pairs whose models it
keeps loaded), and `publish` (consumed where the feed writer can write: the machine holding the feeds
folder, or any worker once feeds go to object storage). Messages and queues are durable.

Guarantees: a task is acknowledged only after it finished (`task_acks_late`), and given back to the queue
when the process running it dies (`task_reject_on_worker_lost`), so a kill -9 mid-task means the task runs
again, elsewhere or on the same worker; each worker process takes one message at a time (prefetch 1), so
a long unit never holds others hostage. Running a task twice changes nothing: see tasks.py.

Results travel back over the broker itself (the `rpc://` backend: a reply queue per caller), so no other
service is needed; nothing depends on them but the caller's progress and tallies.
"""

from __future__ import annotations

from celery import Celery

from syndicator.config import Config

TRANSLATE_TASK = "syndicator.translate"
PUBLISH_TASK = "syndicator.publish"
PUBLISH_QUEUE = "publish"
QUEUE_PREFIX = "translate."


def queue_name(pair: str) -> str:
    """The queue of a language pair, e.g. translate.en-fr."""
    return QUEUE_PREFIX + pair


def make_app(config: Config) -> Celery:
    """The Celery application for an instance's config (tasks registered, nothing connected yet)."""
    from syndicator.distributed import tasks

    app = Celery("syndicator", broker=config.run.broker, backend="rpc://", set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A worker that loses the broker mid-task gives its unacknowledged task back (it is redelivered).
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=PUBLISH_QUEUE,
        task_create_missing_queues=True,
        broker_connection_retry_on_startup=True,
        # Publisher confirms: send_task returns once the broker has the message (durable), not before.
        broker_transport_options={"confirm_publish": True},
        result_expires=3600,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
    )
    app.syndicator_config = config  # read by the tasks in each worker process
    tasks.register(app)
    return app
