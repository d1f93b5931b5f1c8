"""Interactive what-if on one VirtualService: its weights and its header rules.

:class:`WhatIf` edits the simulator through the package's one what-if implementation,
``Simulator.with_weights`` (a rule's weights replaced) and ``Simulator.apply`` (the
VirtualService with some rules switched off, applied as ``kubectl apply`` would), and evaluates
a traffic model through the exact evaluator (``simulate(mode="exact")``):
:meth:`WhatIf.evaluate` is the plain callback, tested without a browser; :meth:`WhatIf.widget`
wraps it in ipywidgets sliders and toggles (the ``widgets`` extra).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..errors import ConfigError, InvalidArgument
from .frames import require
from .table import Col, Table


class WhatIf:
    """What routing ``traffic`` would do with other weights or without some header rules."""

    def __init__(self, sim: Any, virtual_service: str, traffic: Any, *, n: int = 10_000) -> None:
        if sim.config is None:
            raise InvalidArgument("what-if needs a Simulator made by istiosim.load()")
        self.sim = sim
        self.traffic = traffic
        self.n = n
        found = [
            (i, vs)
            for i, vs in enumerate(sim.config.virtual_services)
            if virtual_service
            in (vs.metadata.name, f"{vs.metadata.namespace or 'default'}/{vs.metadata.name}")
        ]
        if not found:
            names = ", ".join(vs.metadata.name for vs in sim.config.virtual_services)
            raise InvalidArgument(f"no VirtualService {virtual_service!r} (loaded: {names})")
        self._index, self._vs = found[-1]
        self.name = f"{self._vs.metadata.namespace or 'default'}/{self._vs.metadata.name}"
        self._spec = self._vs.model_dump(by_alias=True, exclude_none=True)

    def _http(self) -> list[dict[str, Any]]:
        """The http rules as YAML would say them (a null rule: an empty mapping)."""
        return [r or {} for r in self._spec["spec"].get("http") or []]

    @property
    def weights(self) -> dict[int, list[int]]:
        """The configured weights of each rule with more than one destination."""
        out = {}
        for i, rule in enumerate(self._http()):
            route = rule.get("route") or []
            if len(route) > 1:
                out[i] = [int(d.get("weight") or 0) for d in route]
        return out

    def destinations(self, rule: int) -> list[str]:
        return [_key(d).replace("/", " ", 1) for d in self._http()[rule].get("route") or []]

    @property
    def header_rules(self) -> dict[int, str]:
        """Rules that match on a header: rule index → what they match."""
        out = {}
        for i, rule in enumerate(self._http()):
            parts = [
                f"{k} {next(iter(v))} {next(iter(v.values()))}"
                for m in rule.get("match") or []
                for k, v in (m.get("headers") or {}).items()
                if v
            ]
            if parts:
                out[i] = " or ".join(parts)
        return out

    def simulator(
        self, weights: Mapping[int, Sequence[int]] | None = None, disabled: Collection[int] = ()
    ) -> Any:
        """A Simulator with this VirtualService's ``weights`` replaced (rule → one weight per
        destination, through ``Simulator.with_weights``) and the ``disabled`` rules removed
        (the edited VirtualService put in place by ``Simulator.apply``)."""
        http = self._http()
        sim = self.sim
        configured = self.weights
        for rule, ws in (weights or {}).items():
            if [int(w) for w in ws] == configured.get(rule):
                continue  # as configured (a slider left alone): nothing to recompile
            if not 0 <= rule < len(http):
                raise InvalidArgument(f"{self.name} has no http rule {rule}")
            route = http[rule].get("route") or []
            if len(ws) != len(route):
                raise InvalidArgument(
                    f"rule {rule} has {len(route)} destination(s), got {len(ws)} weight(s)"
                )
            keys = [_key(d) for d in route]
            hosts = [k.split("/")[0] for k in keys]
            if len(set(keys)) != len(keys) or any(
                "/" not in k and hosts.count(k) > 1 for k in keys
            ):
                raise InvalidArgument(
                    f"rule {rule} of {self.name} routes twice to one destination "
                    f"({', '.join(keys)}): its weights cannot be set one by one"
                )
            sim = sim.with_weights(self.name, rule, dict(zip(keys, map(int, ws), strict=True)))
        off = set(disabled)
        if off:
            ns, _, name = self.name.partition("/")
            vs = next(
                v
                for v in sim.config.virtual_services
                if v.metadata.name == name and (v.metadata.namespace or "default") == ns
            )
            kept = [r for i, r in enumerate(vs.spec.http) if i not in off]
            edited = vs.model_copy(update={"spec": vs.spec.model_copy(update={"http": kept})})
            sim = sim.apply(edited, namespace=ns)
        return sim

    def evaluate(
        self, weights: Mapping[int, Sequence[int]] | None = None, disabled: Collection[int] = ()
    ) -> Table:
        """The callback: exact shares of the traffic under the edited rules, as a Table with
        the current configuration's shares next to them."""
        for ws in (weights or {}).values():
            if sum(ws) <= 0:
                return Table("every weight is 0: Istio refuses this route", (), [])
        before = self.sim.simulate(self.traffic, self.n, mode="exact").shares(
            ("host", "subset", "outcome")
        )
        try:
            after_sim = self.simulator(weights, disabled)
        except ConfigError as e:  # shown, not raised: a slider may reach a refused config
            return Table(
                "Istio would refuse this VirtualService", (), [], tuple(str(e).splitlines())
            )
        after = after_sim.simulate(self.traffic, self.n, mode="exact").shares(
            ("host", "subset", "outcome")
        )
        keys = sorted(set(before) | set(after), key=lambda k: tuple(str(x) for x in k))
        rows = [
            (h, s, o, before.get(k, 0.0), after.get(k, 0.0), after.get(k, 0.0) - before.get(k, 0.0))
            for k in keys
            for h, s, o in [k]
        ]
        cols = (
            Col("host", "host"),
            Col("subset", "category"),
            Col("outcome", "category"),
            Col("configured", "share"),
            Col("what-if", "share"),
            Col("change", "delta"),
        )
        what = []
        for rule, ws in (weights or {}).items():
            what.append(f"rule {rule} weights {'/'.join(str(w) for w in ws)}")
        what += [f"rule {r} off" for r in sorted(disabled)]
        title = f"what-if on {self.name}: " + ("; ".join(what) if what else "as configured")
        return Table(title, cols, rows, ("exact probabilities of the traffic model",))

    def plot(self, table: Table, ax: Any = None) -> Any:
        """Configured vs what-if shares of a table from :meth:`evaluate`."""
        from .plot import _axes, _percent

        ax = _axes(ax)
        labels = [f"{str(r[0]).split('.')[0]} {r[1] or ''}".strip() for r in table.rows]
        x = list(range(len(labels)))
        ax.bar(
            [i - 0.2 for i in x],
            [r[3] for r in table.rows],
            0.4,
            label="configured",
            color="#999999",
        )
        ax.bar(
            [i + 0.2 for i in x], [r[4] for r in table.rows], 0.4, label="what-if", color="#1f77b4"
        )
        ax.set_xticks(x, labels)
        ax.yaxis.set_major_formatter(_percent())
        ax.set_ylim(0, 1)
        ax.set_xlabel("destination")
        ax.set_ylabel("share of requests")
        ax.set_title(table.title)
        ax.legend(fontsize="small")
        return ax

    def widget(self) -> Any:
        """Sliders for each weighted rule's weights and a toggle per header rule (ipywidgets)."""
        w = require("ipywidgets", "widgets")
        from IPython.display import display

        sliders: dict[int, list[Any]] = {}
        controls: list[Any] = []
        for rule, ws in self.weights.items():
            row = [
                w.IntSlider(value=v, min=0, max=100, description=name, continuous_update=False)
                for v, name in zip(ws, self.destinations(rule), strict=True)
            ]
            sliders[rule] = row
            controls += [w.HTML(f"<b>rule {rule} weights</b>"), *row]
        toggles = {
            rule: w.Checkbox(value=True, description=f"rule {rule}: {what}")
            for rule, what in self.header_rules.items()
        }
        controls += list(toggles.values())
        out = w.Output()

        def refresh(_: Any = None) -> None:
            table = self.evaluate(
                {r: [s.value for s in row] for r, row in sliders.items()},
                [r for r, t in toggles.items() if not t.value],
            )
            out.clear_output(wait=True)
            with out:
                display(table)  # type: ignore[no-untyped-call]

        for c in [*[s for row in sliders.values() for s in row], *toggles.values()]:
            c.observe(refresh, names="value")
        refresh()
        return w.VBox([*controls, out])


def _key(d: Mapping[str, Any]) -> str:
    """How ``Simulator.with_weights`` names a destination: ``host/subset`` or ``host``."""
    dest = d.get("destination") or {}
    host = str(dest.get("host", ""))
    return f"{host}/{dest['subset']}" if dest.get("subset") else host


__all__ = ["WhatIf"]
