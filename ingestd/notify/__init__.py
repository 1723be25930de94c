"""Notify: tell people and systems about incidents, through a durable outbox.

Reads in the order a notification travels:

- ``model``      what a notification says (pure data, JSON-able for the outbox)
- ``config``     ``receivers.yaml``, validated completely at load (``options``, ``templates``)
- ``outbox``     the store interface: claim due items under a lease, settle them
- ``worker``     per-receiver lanes: concurrency, rate limit, timeout, retry, dead letter
- ``retry``      the one retry policy every integration shares
- ``receivers``  builds a sender per configured receiver
- one module per integration: ``webhook``, ``slack``, ``wecom``, ``dingtalk``,
  ``feishu``, ``email``, ``redmine`` and ``jira`` (the last two through ``tickets``)
- ``metrics``    Prometheus counters of sent, failed, dead-lettered, latency, pending
"""
