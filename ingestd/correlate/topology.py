"""Topology-aware correlation: one incident per fault, with its root CI named.

Every episode is placed in event time by what the dependency graph and the
alert's meaning (:mod:`ingestd.knowledge`) say. Time is the episode's
*onset*: ``starts_at`` less its rule's known ``for``; an incident's onset is
the earliest of its episodes', the fault's start. An effect begins within
``window`` after its cause's onset (and not more than ``slack`` before it); a
cause begins before its effects (at most ``slack`` after the first of them).

* **standalone** warnings and alerts that map to no CI are incidents of their
  own (one per fingerprint);
* **flap**: the same fingerprint re-firing within ``reopen_window`` of its own
  resolution, while its incident's cause is still active, returns to it;
* **explained**: the episode's CI depends (within ``max_hops``) on a CI of an
  incident whose root is at least as strong a fault signal (failing > errors >
  slow) and whose onset fits: it joins as a symptom. A CI that is still
  failing keeps collecting its own alerts whatever the time;
* **deeper cause**: the incident's root depends on the episode's CI, the
  episode is at least as strong and began before the effects: it joins and
  becomes the root (:class:`RootChanged`); when it is the deeper cause of
  several incidents they merge (:class:`IncidentsMerged`);
* **silent common cause**: when most of what directly (not as one of several
  replicas) depends on a CI are the roots of concurrent incidents and that CI
  raised nothing itself, it is named the root (``root_inferred``) and those
  incidents merge;
* **foretold**: a local failure on a CI whose stand-alone warning is firing
  continues that warning's incident;
* otherwise the episode opens an incident of its own.

Two faults next to each other in the graph therefore stay apart unless one
lies upstream of the other's root. The hot path touches only the episode's
upstream neighbourhood (small) and per-CI indexes of open incidents.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingestd.cmdb import Cmdb
from ingestd.correlate.base import (
    Change,
    CorrelationSettings,
    EpisodeAttached,
    IdFactory,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
    IncidentsMerged,
    IncidentView,
    RootChanged,
)
from ingestd.domain import Episode
from ingestd.knowledge import AlertKnowledge, Role, default_knowledge


@dataclass(slots=True)
class _Ep:
    key: str
    fingerprint: str
    ci: str | None  # the CI used for correlation (a blamed dependency, or the mapped CI)
    role: Role
    strength: int  # role.strength, asked for on every placement
    local: bool
    starts_at: datetime
    ends_at: datetime | None
    incident: str
    mapped: str | None = None  # the CI the alert itself maps to
    onset: datetime | None = None  # starts_at less the rule's known `for`

    @property
    def began(self) -> datetime:
        return self.onset or self.starts_at


@dataclass(slots=True)
class _Inc:
    view: IncidentView
    isolated: bool  # standalone / unmapped: never joined by the graph
    root_strength: int = 0
    firing: int = 0
    ci_firing: Counter[str] = field(default_factory=Counter)
    ci_until: dict[str, datetime] = field(default_factory=dict)
    ci_since: dict[str, datetime] = field(default_factory=dict)  # latest start per CI
    last_end: datetime | None = None
    counted: bool = False  # root counted in the silent-cause tallies
    onset: datetime | None = None  # earliest onset of its graph-placed episodes: the fault's start
    causes: Counter[str] = field(default_factory=Counter)  # CI -> firing cause-strength episodes

    @property
    def id(self) -> str:
        return self.view.id


_EDGE_CACHE = 50_000  # CIs whose dependency kinds are remembered

_CAUSE, _SYMPTOM, _SLOW = Role.CAUSE.strength, Role.SYMPTOM.strength, Role.SLOW.strength


def _counter_ids(prefix: str = "inc-") -> IdFactory:
    seq = itertools.count(1)
    return lambda _at: f"{prefix}{next(seq):06d}"


class TopologyCorrelator:
    """The :class:`~ingestd.correlate.base.Correlator` the pipeline uses."""

    def __init__(self, cmdb: Cmdb, settings: CorrelationSettings | None = None,
                 knowledge: AlertKnowledge | None = None,
                 new_id: IdFactory | None = None) -> None:
        self.settings = settings or CorrelationSettings()
        self.knowledge = knowledge or default_knowledge()
        self._new_id: Callable[[datetime], str] = new_id or _counter_ids()
        self._cmdb = cmdb
        self._incs: dict[str, _Inc] = {}
        self._eps: dict[str, _Ep] = {}
        self._alias: dict[str, str] = {}
        self._fp_last: dict[str, str] = {}
        self._fp_ep: dict[str, _Ep] = {}  # fingerprint -> its latest episode
        self._ci_incs: dict[str, set[str]] = {}  # CI -> incidents it is a member or root of
        self._alerting: Counter[str] = Counter()  # CI -> firing episodes (symptom or stronger)
        self._root_refs: Counter[str] = Counter()  # CI -> open incidents rooted at it
        self._root_deps: Counter[str] = Counter()  # CI -> direct dependents that are roots
        self._edge_cache: dict[str, dict[str, bool]] = {}
        # Fault paths from a CI (what it depends on / what depends on it) depend on the
        # graph and on which CIs pass a fault on (:meth:`_passes`); they are remembered
        # until one of those changes (:meth:`_paths_changed`).
        self._up_cache: dict[str, dict[str, tuple[int, int]]] = {}
        self._below_cache: dict[str, list[tuple[str, int]]] = {}
        self._warned: dict[str, set[str]] = {}  # CI -> its stand-alone warning incidents
        self._seen: datetime | None = None  # the latest event time seen (start or end)

    # ---- the Correlator protocol -------------------------------------------

    @property
    def cmdb(self) -> Cmdb:
        return self._cmdb

    def set_cmdb(self, cmdb: Cmdb) -> None:
        """Swap in a reloaded CMDB; open incidents are kept."""
        for inc in self._incs.values():
            self._unregister_root(inc)
        self._cmdb = cmdb
        self._edge_cache.clear()
        self._paths_changed()
        for inc in self._incs.values():
            if inc.view.active:
                self._register_root(inc)

    def incident(self, incident_id: str) -> IncidentView | None:
        inc = self._incs.get(self._resolve_id(incident_id))
        return inc.view if inc else None

    def incident_of(self, episode_key: str) -> str | None:
        ep = self._eps.get(episode_key)
        return self._resolve_id(ep.incident) if ep else None

    def open_incidents(self) -> list[IncidentView]:
        return [i.view for i in self._incs.values() if i.view.active]

    def firing(self, episode: Episode) -> Sequence[Change]:
        if episode.key in self._eps:
            return []
        self._see(episode.starts_at)
        out: list[Change] = []
        meaning = self.knowledge.meaning(episode.alertname, episode.severity)
        ci = episode.ci if episode.ci in self._cmdb else None
        role = meaning.role
        blamed = self._blamed(ci, meaning.blames) if ci and meaning.blames else None
        ep = _Ep(episode.key, episode.fingerprint, blamed or ci, role, role.strength,
                 meaning.local, episode.starts_at, None, "", ci, meaning.onset(episode.starts_at))
        if ep.ci is None or role is Role.STANDALONE:
            self._place_isolated(ep, out)
        else:
            self._place(ep, blamed is not None, out)
        if episode.ends_at is not None:
            out.extend(self.resolved(episode))
        return out

    def resolved(self, episode: Episode) -> Sequence[Change]:
        ep = self._eps.get(episode.key)
        if ep is None or ep.ends_at is not None or episode.ends_at is None:
            return []
        self._see(episode.ends_at)
        ep.ends_at = episode.ends_at
        inc = self._incs[self._resolve_id(ep.incident)]
        inc.firing -= 1
        if ep.ci is not None and not inc.isolated and ep.strength >= _SLOW:
            inc.ci_firing[ep.ci] -= 1
            if ep.strength >= _CAUSE:
                inc.causes[ep.ci] -= 1
            self._alerting[ep.ci] -= 1
            if self._alerting[ep.ci] <= 0:
                del self._alerting[ep.ci]
                self._paths_changed()
            prev = inc.ci_until.get(ep.ci)
            inc.ci_until[ep.ci] = max(prev, ep.ends_at) if prev else ep.ends_at
        inc.last_end = max(inc.last_end, ep.ends_at) if inc.last_end else ep.ends_at
        self._touch(inc, ep.ends_at)
        if inc.firing <= 0 and inc.view.active:
            return [self._resolve(inc, inc.last_end, "all alerts resolved")]
        return []

    def tick(self, now: datetime) -> Sequence[Change]:
        out: list[Change] = []
        s = self.settings
        keep = max(s.window, s.reopen_window) + s.slack
        # resolved incidents are forgotten on event time: a stream replayed faster than it
        # happened still finds the incidents its late alerts and flaps belong to
        horizon = min(now, self._seen) if self._seen is not None else now
        for inc in list(self._incs.values()):
            v = inc.view
            if v.active:
                quiet = now - v.last_activity
                if s.auto_resolve_after is not None and quiet >= s.auto_resolve_after:
                    out.append(self._resolve(inc, now,
                                             f"quiet for {_human(s.auto_resolve_after)} (auto-resolve)"))
            elif v.resolved_at is not None and horizon - v.resolved_at > keep and inc.firing <= 0:
                self._forget(inc)
        return out

    def restore(self, incidents: Iterable[IncidentView], episodes: Iterable[Episode]) -> None:
        by_key = {e.key: e for e in episodes}
        for view in incidents:
            eps = [by_key[k] for k in sorted(view.episodes) if k in by_key]
            roles = [self.knowledge.meaning(e.alertname, e.severity).role for e in eps]
            isolated = view.root_ci is None or all(r is Role.STANDALONE for r in roles)
            inc = _Inc(view, isolated)
            self._incs[view.id] = inc
            for e, role in sorted(zip(eps, roles, strict=True), key=lambda p: p[0].starts_at):
                mapped = e.ci if e.ci in self._cmdb else None
                meaning = self.knowledge.meaning(e.alertname, e.severity)
                # The CI correlation used when the episode fired: the blamed one, as in firing().
                blamed = (self._blamed(mapped, meaning.blames)
                          if mapped and meaning.blames else None)
                ci = blamed or mapped
                ep = _Ep(e.key, e.fingerprint, ci, role, role.strength, meaning.local,
                         e.starts_at, e.ends_at, view.id, mapped, meaning.onset(e.starts_at))
                if not isolated:
                    inc.onset = min(inc.onset or ep.began, ep.began)
                self._eps[e.key] = ep
                self._fp_last[e.fingerprint] = view.id
                self._fp_ep[e.fingerprint] = ep
                if ep.ends_at is None:
                    inc.firing += 1
                if not isolated and ci is not None and role.strength >= Role.SLOW.strength:
                    self._ci_incs.setdefault(ci, set()).add(view.id)
                    if ep.ends_at is None:
                        inc.ci_firing[ci] += 1
                        if role.strength >= Role.CAUSE.strength:
                            inc.causes[ci] += 1
                        self._alerting[ci] += 1
                    else:
                        inc.ci_until[ci] = max(inc.ci_until.get(ci, ep.ends_at), ep.ends_at)
                if ep.ends_at is not None:
                    inc.last_end = max(inc.last_end or ep.ends_at, ep.ends_at)
                if ci == view.root_ci:
                    inc.root_strength = max(inc.root_strength, role.strength)
            if isolated and view.root_ci:
                self._warned.setdefault(view.root_ci, set()).add(view.id)
            if not isolated and view.root_ci:
                if view.root_inferred and inc.root_strength == 0:
                    inc.root_strength = Role.SYMPTOM.strength
                self._ci_incs.setdefault(view.root_ci, set()).add(view.id)
                if view.active:
                    self._register_root(inc)
        self._paths_changed()

    # ---- placing an episode ------------------------------------------------

    def _place_isolated(self, ep: _Ep, out: list[Change]) -> None:
        prev, linked = self._flap_target(ep)
        if prev is not None:
            self._attach(prev, ep, out)
            return
        self._open(ep, ep.ci, False, True, linked, out)

    def _place(self, ep: _Ep, blamed: bool, out: list[Change]) -> None:
        prev, linked = self._flap_target(ep)
        if prev is not None and not prev.isolated:
            self._attach(prev, ep, out)
            return
        assert ep.ci is not None
        t = ep.starts_at
        strength = ep.strength
        explained: list[tuple[int, _Inc]] = []  # all at the nearest distance that explains
        stale: list[_Inc] = []  # explained only because the same CI is still failing
        ups = {ep.ci: (0, _CAUSE)} if ep.local else self._upstream(ep.ci)
        # _open_at, _linkable, _causes, _too_old and _ci_active, inlined: this loop is the
        # hot path of an alert storm. The time tests compare an incident's onset with bounds
        # around the episode's, computed once here rather than once per incident.
        s = self.settings
        began = ep.began
        fresh_from, fresh_to = began - s.window, began + s.slack  # _linkable
        cause_from, cause_to = began - s.slack, began + s.window  # _causes
        opened_after = t - s.max_age  # an incident opened before this is too old
        ci_incs, incs = self._ci_incs, self._incs
        for x, (dist, carry) in ups.items():
            if explained and dist > explained[0][0]:
                # ups comes nearest first, and only the nearest explanations are kept:
                # nothing further on can change the outcome (linked and stale matter only
                # when nothing explains the episode)
                break
            iids = ci_incs.get(x)
            if not iids:
                continue
            for iid in iids:
                inc = incs[iid]
                v = inc.view
                ra = v.resolved_at
                onset = inc.onset
                open_at = ra is None or t <= ra
                if open_at and onset is not None:
                    fresh = fresh_from <= onset <= fresh_to
                    causes = not fresh and cause_from <= onset <= cause_to
                else:
                    fresh = causes = False
                if dist == 0:
                    # the same CI: close to the fault's onset either way, or while it is failing
                    if not (fresh or causes):
                        if open_at and inc.causes.get(x, 0) > 0:
                            stale.append(inc)
                        continue
                elif not fresh or not (inc.ci_firing.get(x, 0) > 0
                                       or self._ci_active(inc, x, t)):
                    continue
                if v.opened_at < opened_after:
                    linked = linked or inc.id
                    continue
                root = v.root_ci
                if root is None or (root != x and not (inc.ci_firing.get(root, 0) > 0
                                                       or self._ci_active(inc, root, t))):
                    continue  # the cause has recovered: it explains nothing new
                if (x == root and dist == 0
                        or inc.root_strength >= strength and carry >= strength):
                    explained.append((dist, inc))
        deeper: list[_Inc] = []
        carries: dict[str, int] = {}
        below = self._rooted_below(ep.ci)
        if below:
            # a link alert is an effect (the neighbour lost the failing CI); others are causes
            fits = self._linkable if ep.role is Role.LINK else self._causes
            for iid, carry in below.items():
                inc = incs[iid]
                if not fits(inc, ep) or inc.view.root_ci is None:
                    continue
                if not self._ci_active(inc, inc.view.root_ci, t):
                    continue
                if self._too_old(inc, t):
                    linked = linked or inc.id
                    continue
                if ep.role is Role.LINK or min(strength, carry) >= inc.root_strength:
                    deeper.append(inc)
                    carries[inc.id] = carry
        if not explained and not deeper and stale:
            explained = [(0, i) for i in stale if not self._too_old(i, t)]
            linked = linked or next((i.id for i in stale if self._too_old(i, t)), None)
        if len(explained) > 1:
            # all nearest in the graph: the strongest cause, one that began before the
            # episode, then the larger fault (the first of equals, as a stable sort would put it)
            explained = [min(explained, key=lambda p: (
                -p[1].root_strength, self._after(p[1], ep), -len(p[1].view.episodes),
                p[1].view.opened_at))]
        if deeper and ep.role is not Role.LINK:
            group = _unique([i for _, i in explained[:1]] + deeper)
            host = min(group, key=lambda i: i.view.opened_at) if not explained else group[0]
            for other in group:
                if other is not host:
                    self._merge(host, other, t, f"{ep.ci} links them: "
                                f"{other.view.root_ci} depends on it", out)
            self._attach(host, ep, out)
            if not explained:
                # the new root explains the incident only as well as the path carries
                self._set_root(host, ep.ci, min(strength, max(carries.values())), blamed, t,
                               f"{host.view.root_ci} depends on {ep.ci}, which alerts", out)
            return
        if explained or deeper:
            host = explained[0][1] if explained else min(deeper, key=lambda i: i.view.opened_at)
            self._attach(host, ep, out)
            return
        if self._infer_common_cause(ep, t, out) or self._foretold(ep, out):
            return
        self._open(ep, ep.ci, blamed, False, linked, out)

    def _foretold(self, ep: _Ep, out: list[Change]) -> bool:
        """A local failure of a CI whose own stand-alone warning is still firing (disk filling,
        then disk full) continues that warning's incident, which now takes part in the graph."""
        if not ep.local or ep.ci is None or ep.ci != ep.mapped:
            return False
        for iid in sorted(self._warned.get(ep.ci, ())):
            inc = self._incs[iid]
            if not (inc.view.active and inc.firing > 0 and inc.view.opened_at <= ep.starts_at):
                continue
            self._warned[ep.ci].discard(iid)
            inc.isolated = False
            inc.root_strength = ep.strength
            self._ci_incs.setdefault(ep.ci, set()).add(inc.id)
            self._register_root(inc)
            self._attach(inc, ep, out)
            return True
        return False

    def _infer_common_cause(self, ep: _Ep, t: datetime, out: list[Change]) -> bool:
        assert ep.ci is not None
        if ep.local:
            return False
        best: tuple[float, str] | None = None
        for u, redundant in self._edges(ep.ci).items():
            if redundant:
                continue  # one of several replicas failing would only degrade ep.ci
            if self._root_refs.get(u) or self._alerting.get(u):
                continue  # u is alerting or already a root itself
            roots = self._root_deps[u] + 1
            share = roots / max(1, len(self._cmdb.needed_by(u)))
            if roots >= 2 and share > self.settings.infer_min_share:
                if best is None or share > best[0]:
                    best = (share, u)
        if best is None:
            return False
        u = best[1]
        group: list[_Inc] = []
        for d in self._cmdb.needed_by(u):
            if not self._root_refs[d]:
                continue
            if self._edges(d).get(u, True):
                continue  # d runs on several of u's kind: u failing does not explain d failing
            for iid in self._ci_incs.get(d, ()):
                inc = self._incs[iid]
                if (inc.view.root_ci == d and inc.view.active and not self._too_old(inc, t)
                        and inc.ci_firing.get(d, 0) > 0 and inc.onset is not None
                        and abs(ep.began - inc.onset) <= self.settings.window):
                    group.append(inc)
        if len(group) + 1 <= len(self._cmdb.needed_by(u)) * self.settings.infer_min_share:
            return False
        if not group:
            return False
        group.sort(key=lambda i: i.view.opened_at)
        host = group[0]
        strength = min([ep.strength] + [i.root_strength for i in group])
        for other in group[1:]:
            self._merge(host, other, t, f"{host.view.root_ci} and {other.view.root_ci} "
                        f"both depend on {u}, which raised no alert", out)
        self._attach(host, ep, out)
        self._set_root(host, u, strength, True, t,
                       f"{len(group) + 1} of the {len(self._cmdb.needed_by(u))} CIs that need "
                       f"{u} alert, and {u} itself raised no alert", out)
        return True

    # ---- incident bookkeeping ------------------------------------------------

    def _open(self, ep: _Ep, root: str | None, inferred: bool, isolated: bool,
              linked: str | None, out: list[Change]) -> None:
        t = ep.starts_at
        view = IncidentView(id=self._new_id(t), opened_at=t, last_activity=t,
                            root_ci=root, root_inferred=inferred)
        inc = _Inc(view, isolated, root_strength=ep.strength)
        self._incs[view.id] = inc
        out.append(IncidentOpened(view.id, t, ep.key, root, inferred, linked))
        if root is not None:
            view.cis.add(root)
            if not isolated:
                self._ci_incs.setdefault(root, set()).add(view.id)
                self._register_root(inc)
            else:
                self._warned.setdefault(root, set()).add(view.id)
        self._add(inc, ep)

    def _attach(self, inc: _Inc, ep: _Ep, out: list[Change]) -> None:
        if not inc.view.active:
            inc.view.resolved_at = None
            out.append(IncidentReopened(inc.id, ep.starts_at, ep.key))
            if not inc.isolated:
                self._register_root(inc)
        else:
            out.append(EpisodeAttached(inc.id, ep.starts_at, ep.key))
        self._add(inc, ep)
        root = inc.view.root_ci
        if ep.ci is not None and ep.ci == root and not inc.isolated:
            if (inc.view.root_inferred and ep.strength >= _SLOW
                    and ep.ci == ep.mapped):
                inc.view.root_inferred = False
                out.append(RootChanged(inc.id, ep.starts_at, root, root, False,
                                       f"{root} now raises an alert itself"))
            inc.root_strength = max(inc.root_strength, ep.strength)

    def _add(self, inc: _Inc, ep: _Ep) -> None:
        v = inc.view
        key, fp, ci, starts_at = ep.key, ep.fingerprint, ep.ci, ep.starts_at
        ep.incident = v.id
        self._eps[key] = ep
        v.episodes.add(key)
        v.fingerprints.add(fp)
        self._fp_last[fp] = v.id
        last = self._fp_ep.get(fp)
        if last is None or last.starts_at <= starts_at:
            self._fp_ep[fp] = ep
        inc.firing += 1
        if starts_at > v.last_activity:  # _touch
            v.last_activity = starts_at
        if ci is None:
            return
        v.cis.add(ci)
        if inc.isolated:
            return
        began = ep.began
        if inc.onset is None or began < inc.onset:
            inc.onset = began
        if ep.strength >= _SLOW:
            inc.ci_firing[ci] += 1
            if ep.strength >= _CAUSE and ep.ends_at is None:
                inc.causes[ci] += 1
            if ci not in self._alerting:
                self._paths_changed()
            self._alerting[ci] += 1
            since = inc.ci_since.get(ci)
            inc.ci_since[ci] = max(since, starts_at) if since else starts_at
            self._ci_incs.setdefault(ci, set()).add(v.id)

    def _merge(self, host: _Inc, other: _Inc, at: datetime, reason: str,
               out: list[Change]) -> None:
        self._unregister_root(other)
        hv, ov = host.view, other.view
        for key in ov.episodes:
            self._eps[key].incident = hv.id
        hv.episodes |= ov.episodes
        hv.fingerprints |= ov.fingerprints
        for fp in ov.fingerprints:
            if self._fp_last.get(fp) == ov.id:
                self._fp_last[fp] = hv.id
        for ci in ov.cis:
            hv.cis.add(ci)
            s = self._ci_incs.get(ci)
            if s is not None and ov.id in s:
                s.discard(ov.id)
                s.add(hv.id)
        host.ci_firing.update(other.ci_firing)
        host.causes.update(other.causes)
        if other.onset is not None:
            host.onset = min(host.onset or other.onset, other.onset)
        for ci, until in other.ci_until.items():
            host.ci_until[ci] = max(host.ci_until.get(ci, until), until)
        for ci, since in other.ci_since.items():
            host.ci_since[ci] = max(host.ci_since.get(ci, since), since)
        host.firing += other.firing
        if other.last_end and (host.last_end is None or other.last_end > host.last_end):
            host.last_end = other.last_end
        hv.opened_at = min(hv.opened_at, ov.opened_at)
        hv.last_activity = max(hv.last_activity, ov.last_activity)
        del self._incs[ov.id]
        self._alias[ov.id] = hv.id
        if not hv.active:
            hv.resolved_at = None
            self._register_root(host)
        out.append(IncidentsMerged(ov.id, hv.id, at, reason))

    def _set_root(self, inc: _Inc, root: str, strength: int, inferred: bool, at: datetime,
                  reason: str, out: list[Change]) -> None:
        old = inc.view.root_ci
        if old == root and inc.view.root_inferred == inferred:
            inc.root_strength = max(inc.root_strength, strength)
            return
        self._unregister_root(inc)
        inc.view.root_ci = root
        inc.view.root_inferred = inferred
        inc.root_strength = strength
        inc.view.cis.add(root)
        self._ci_incs.setdefault(root, set()).add(inc.id)
        if inc.view.active:
            self._register_root(inc)
        out.append(RootChanged(inc.id, at, old, root, inferred, reason))

    def _register_root(self, inc: _Inc) -> None:
        root = inc.view.root_ci
        if inc.counted or inc.isolated or root is None:
            return
        inc.counted = True
        self._root_refs[root] += 1
        if self._root_refs[root] == 1:
            self._paths_changed()
            for d in self._cmdb.depends_on(root):
                self._root_deps[d] += 1

    def _unregister_root(self, inc: _Inc) -> None:
        root = inc.view.root_ci
        if not inc.counted or root is None:
            return
        inc.counted = False
        self._root_refs[root] -= 1
        if self._root_refs[root] <= 0:
            del self._root_refs[root]
            self._paths_changed()
            for d in self._cmdb.depends_on(root):
                self._root_deps[d] -= 1
                if self._root_deps[d] <= 0:
                    del self._root_deps[d]

    def _resolve(self, inc: _Inc, at: datetime, reason: str) -> IncidentResolved:
        inc.view.resolved_at = at
        self._unregister_root(inc)
        return IncidentResolved(inc.id, at, reason)

    def _forget(self, inc: _Inc) -> None:
        self._unregister_root(inc)
        root = inc.view.root_ci
        if root is not None and root in self._warned:
            self._warned[root].discard(inc.id)
            if not self._warned[root]:
                del self._warned[root]
        for ci in inc.view.cis:
            s = self._ci_incs.get(ci)
            if s is not None:
                s.discard(inc.id)
                if not s:
                    del self._ci_incs[ci]
        for key in inc.view.episodes:
            self._eps.pop(key, None)
        for fp in inc.view.fingerprints:
            if self._fp_last.get(fp) == inc.id:
                del self._fp_last[fp]
                self._fp_ep.pop(fp, None)
        del self._incs[inc.id]
        for a in [a for a, target in self._alias.items() if target == inc.id]:
            del self._alias[a]

    # ---- small helpers -----------------------------------------------------------

    def _resolve_id(self, iid: str) -> str:
        while iid in self._alias:
            iid = self._alias[iid]
        return iid

    def _passes(self, ci: str) -> bool:
        """A failure travels on through ``ci`` if ``ci`` shows it or cannot show anything."""
        if self._alerting.get(ci, 0) > 0 or self._root_refs.get(ci, 0) > 0:
            return True
        c = self._cmdb.cis.get(ci)
        return c is not None and not c.match

    def _paths_changed(self) -> None:
        """Whether some CI passes a fault on changed (or the graph did): forget fault paths."""
        self._up_cache.clear()
        self._below_cache.clear()

    def _upstream(self, start: str) -> dict[str, tuple[int, int]]:
        """What ``start`` depends on along paths a fault can travel: CI -> (distance, carry),
        nearest first (``start`` itself at distance 0).

        ``carry`` is the strongest fault signal the path passes on: a failure,
        or only a degradation (symptom strength) where the path runs through a
        replica placement (one of several hosts) or through a monitored CI that
        shows nothing (:meth:`_passes`). The answer is shared: callers must not change it.
        """
        hit = self._up_cache.get(start)
        if hit is not None:
            return hit
        full, partial = Role.CAUSE.strength, Role.SYMPTOM.strength
        best: dict[str, tuple[int, int]] = {start: (0, full)}
        frontier = [start]
        for hop in range(1, self.settings.max_hops + 1):
            nxt = []
            for x in frontier:
                cx = best[x][1]
                if x != start and not self._passes(x):
                    cx = min(cx, partial)  # a silent, monitored CI: at most a degradation got through
                for d, redundant in self._edges(x).items():
                    c = min(cx, partial if redundant else full)
                    old = best.get(d)
                    if old is None or c > old[1]:
                        best[d] = (old[0] if old else hop, c)
                        nxt.append(d)
            frontier = nxt
        if len(self._up_cache) >= _EDGE_CACHE:
            self._up_cache.clear()
        self._up_cache[start] = best
        return best

    def _rooted_below(self, start: str) -> dict[str, int]:
        """Open incidents whose root depends on ``start`` along a fault path: id -> carry."""
        found: dict[str, int] = {}
        ci_incs, incs = self._ci_incs, self._incs
        for y, c in self._below(start):
            iids = ci_incs.get(y)
            if iids:
                for iid in iids:
                    if incs[iid].view.root_ci == y:
                        found[iid] = c
        return found

    def _below(self, start: str) -> list[tuple[str, int]]:
        """What depends on ``start`` along a fault path, in the order it is reached: CI -> carry."""
        hit = self._below_cache.get(start)
        if hit is not None:
            return hit
        full, partial = Role.CAUSE.strength, Role.SYMPTOM.strength
        best: dict[str, int] = {start: full}
        frontier = [start]
        hub = False  # the dependents looked at depend on the incidents: not remembered
        for _hop in range(self.settings.max_hops):
            nxt = []
            for x in frontier:
                cx = best[x]
                if x != start and not self._passes(x):
                    cx = min(cx, partial)
                hub = hub or len(self._cmdb.needed_by(x)) > 64
                for y in self._dependents_of_interest(x):
                    redundant = self._edges(y).get(x, False)
                    c = min(cx, partial if redundant else full)
                    if c > best.get(y, 0):
                        best[y] = c
                        nxt.append(y)
            frontier = nxt
        reached = list(best.items())[1:]  # every CI but start got there by a better carry
        if not hub:
            if len(self._below_cache) >= _EDGE_CACHE:
                self._below_cache.clear()
            self._below_cache[start] = reached
        return reached

    def _dependents_of_interest(self, x: str) -> Iterable[str]:
        """Direct dependents of ``x`` that a fault path may use or end at."""
        deps = self._cmdb.needed_by(x)
        if len(deps) <= 64 + 4 * len(self._ci_incs):
            return deps
        # A hub: look only at CIs that take part in incidents, or cannot alert.
        return [y for y in self._ci_incs if x in self._cmdb.depends_on(y)]

    def _edges(self, ci: str) -> dict[str, bool]:
        """What ``ci`` depends on -> whether that dependency is one of several replicas."""
        hit = self._edge_cache.get(ci)
        if hit is not None:
            return hit
        deps = self._cmdb.depends_on(ci)
        if len(deps) < 2:
            hit = dict.fromkeys(deps, False)
        else:
            cis = self._cmdb.cis
            kinds = [cis[d].type for d in deps]
            rt = self.settings.replica_types
            hit = {d: k in rt and kinds.count(k) > 1 for d, k in zip(deps, kinds, strict=True)}
        if len(self._edge_cache) >= _EDGE_CACHE:
            self._edge_cache.clear()
        self._edge_cache[ci] = hit
        return hit

    def _blamed(self, ci: str, ci_type: str) -> str | None:
        """The nearest dependency of ``ci`` of type ``ci_type`` (file order on ties)."""
        ups = self._upstream(ci)
        hits = [(d, x) for x, (d, _) in ups.items() if d > 0 and self._cmdb.cis[x].type == ci_type]
        return min(hits)[1] if hits else None

    def _flap_target(self, ep: _Ep) -> tuple[_Inc | None, str | None]:
        """The fingerprint's incident when this episode is a flap of it; else a max-age link."""
        iid = self._fp_last.get(ep.fingerprint)
        if iid is None:
            return None, None
        inc = self._incs.get(self._resolve_id(iid))
        if inc is None:
            return None, None
        t = ep.starts_at
        last = self._fp_ep.get(ep.fingerprint)
        if last is not None and last.ends_at is not None:
            # a flap re-fires soon after the alert itself resolved, whatever its incident did since
            rw = self.settings.reopen_window
            if rw <= timedelta(0) or t - last.ends_at > rw:
                return None, None
            root = inc.view.root_ci
            if (not inc.isolated and root is not None and root != ep.ci
                    and not self._ci_active(inc, root, t)):
                return None, None  # its cause is over: this is another fault's effect
        if self._too_old(inc, t):
            return None, inc.id
        return inc, None

    @staticmethod
    def _after(inc: _Inc, ep: _Ep) -> bool:
        """``inc``'s fault began after ``ep`` did (within the slack): a worse explanation."""
        return inc.onset is not None and inc.onset > ep.began

    def _open_at(self, inc: _Inc, ep: _Ep) -> bool:
        """The incident was open when ``ep`` began (a resolved one takes only stragglers)."""
        v = inc.view
        return v.active or (v.resolved_at is not None and ep.starts_at <= v.resolved_at)

    def _linkable(self, inc: _Inc, ep: _Ep) -> bool:
        """Can ``ep`` be an effect of ``inc``'s fault? It began after the fault did (less the
        slack) and within ``window`` of it: a fault shows on its dependents soon or not at all."""
        if not self._open_at(inc, ep) or inc.onset is None:
            return False
        s = self.settings
        return inc.onset - s.slack <= ep.began <= inc.onset + s.window

    def _causes(self, inc: _Inc, ep: _Ep) -> bool:
        """Can ``ep`` be the cause of ``inc``'s fault? It began before the incident's first
        effect (plus the slack), and not so long before that its effects would have shown."""
        if not self._open_at(inc, ep) or inc.onset is None:
            return False
        s = self.settings
        return inc.onset - s.window <= ep.began <= inc.onset + s.slack

    def _ci_active(self, inc: _Inc, ci: str, t: datetime) -> bool:
        if inc.ci_firing.get(ci, 0) > 0:
            return True
        until = inc.ci_until.get(ci)
        if until is None:  # an inferred root: as active as the alerts that point at it
            evidence = [c for c, n in inc.ci_firing.items() if n > 0]
            if any(ci in self._cmdb.depends_on(c) for c in evidence):
                return True
            until = max((u for c, u in inc.ci_until.items() if ci in self._cmdb.depends_on(c)),
                        default=inc.last_end)
        return until is not None and t <= until

    def _see(self, t: datetime) -> None:
        if self._seen is None or t > self._seen:
            self._seen = t

    def _too_old(self, inc: _Inc, t: datetime) -> bool:
        return t - inc.view.opened_at > self.settings.max_age

    @staticmethod
    def _touch(inc: _Inc, at: datetime) -> None:
        if at > inc.view.last_activity:
            inc.view.last_activity = at


def _unique(items: list[_Inc]) -> list[_Inc]:
    seen: dict[str, _Inc] = {}
    for i in items:
        seen.setdefault(i.id, i)
    return list(seen.values())


def _human(d: timedelta) -> str:
    secs = int(d.total_seconds())
    if secs % 3600 == 0:
        return f"{secs // 3600}h"
    if secs % 60 == 0:
        return f"{secs // 60}m"
    return f"{secs}s"
