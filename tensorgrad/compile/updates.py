"""The optimizer's update as generated numpy statements (SGD, Adam, AdamW, RMSprop).

At trace time `plan` decides whether an ``optimizer.step()`` can be written out: an exact
SGD, Adam or AdamW (no amsgrad) or RMSprop, every parameter's ``.grad`` known to the
trace. Then `emit` writes, per parameter, the same in-place numpy calls the optimizer
makes (so the values are bit-identical to eager), reading the hyperparameters (``lr``,
momentum, betas, ...) from ``param_groups`` and the state arrays and step counts from
``optimizer.state`` on every call: a scheduler's change is seen, Adam's step count
advances as eager. What decides the shape of the code (momentum or weight decay on or off,
Nesterov, centered) is guarded instead. Anything else runs as itself (``opt.step()``).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

# `fmt(var)` -> source name of a var; `obj(k)` -> source name of object k; `const(value,
# hint)` -> name of a constant put into the program's scope; `fresh(hint)` -> a new local.
Namers = tuple[Callable[[Any], str], Callable[[int], str], Callable[[Any, str], str],
               Callable[[str], str]]


def plan(tr: Any, opt: Any, k: int) -> Optional[tuple]:
    """``(k, groups)`` with ``groups = ((group index, ((param index, grad var, data var or
    None), ...)), ...)``, or None when the step has to run as itself."""
    from ..optim.adam import Adam, AdamW
    from ..optim.rmsprop import RMSprop
    from ..optim.sgd import SGD
    if type(opt) not in (SGD, Adam, AdamW, RMSprop):
        return None
    groups = []
    for gi, group in enumerate(opt.param_groups):
        if group.get("amsgrad") or group.get("maximize") or group.get("foreach"):
            return None
        entries = []
        for p in group["params"]:
            kp = tr._obj_index.get(id(p))
            if kp is None:
                return None
            gv = tr.slot_vars.get((kp, "grad"))
            if gv is None:
                tr.opaque += 1  # the slot's value, unrecorded
                try:
                    held = p.grad
                finally:
                    tr.opaque -= 1
                if held is not None or (kp, "grad") not in tr.reads:
                    return None  # set by code that runs as itself (clipping), or unguarded
                continue  # no gradient (guarded or set to None in the step): not updated
            entries.append((kp, gv, tr.slot_vars.get((kp, "data"))))
        groups.append((gi, tuple(entries)))
    return (k, tuple(groups))


def guards(tr: Any, opt: Any, k: int) -> list[str]:
    """What the generated update assumes about `opt` beyond its hyperparameters' values."""
    from ..optim.rmsprop import RMSprop
    from ..optim.sgd import SGD

    o = f"_o{k}"
    out = [f"len({o}.param_groups) == {len(opt.param_groups)}"]
    for gi, group in enumerate(opt.param_groups):
        g = f"{o}.param_groups[{gi}]"
        out.append(f"len({g}['params']) == {len(group['params'])}")
        out += [f"{g}['params'][{i}] is _o{tr._obj_index[id(p)]}"
                for i, p in enumerate(group["params"])]
        if isinstance(opt, SGD):
            out.append(f"({g}['momentum'] != 0) is {group['momentum'] != 0}")
            out.append(f"({g}['dampening'] != 0) is {group['dampening'] != 0}")
            out.append(f"{g}['nesterov'] is {bool(group['nesterov'])}")
        elif isinstance(opt, RMSprop):
            out.append(f"({g}['momentum'] > 0) is {group['momentum'] > 0}")
            out.append(f"{g}['centered'] is {bool(group['centered'])}")
        else:
            out.append(f"not {g}['amsgrad']")
        out.append(f"({g}['weight_decay'] != 0) is {group['weight_decay'] != 0}")
    return out


def emit(opt: Any, k: int, groups: tuple, names: Namers, pname: Callable[[int], str],
         array: Callable[[int], Any]) -> list[str]:
    """Source lines of ``opt.step()`` (see the module docstring)."""
    from ..optim.rmsprop import RMSprop
    from ..optim.sgd import SGD

    fmt, obj, const, fresh = names
    o = obj(k)
    sgd = isinstance(opt, SGD)
    rms = isinstance(opt, RMSprop)
    head: list[str] = []
    body: list[str] = []
    stateful = False
    written: list[str] = []
    for gi, entries in groups:
        group = opt.param_groups[gi]
        g = f"{o}.param_groups[{gi}]"
        lr = fresh("lr")
        wd = fresh("weight_decay") if group["weight_decay"] != 0 else ""
        body.append(f"{lr} = float({g}['lr'])")
        if wd:
            body.append(f"{wd} = float({g}['weight_decay'])")
        if sgd:
            mu = fresh("momentum") if group["momentum"] != 0 else ""
            damp = fresh("dampening") if mu and group["dampening"] != 0 else ""
            if mu:
                body.append(f"{mu} = float({g}['momentum'])")
            if damp:
                body.append(f"{damp} = 1.0 - float({g}['dampening'])")
        elif rms:
            alpha, eps = fresh("alpha"), fresh("eps")
            mu = fresh("momentum") if group["momentum"] > 0 else ""
            body.append(f"{alpha} = float({g}['alpha'])")
            body.append(f"{eps} = float({g}['eps'])")
            if mu:
                body.append(f"{mu} = float({g}['momentum'])")
        else:
            b1, b2, eps = fresh("beta1"), fresh("beta2"), fresh("eps")
            body.append(f"{b1}, {b2} = (float(b) for b in {g}['betas'])")
            body.append(f"{eps} = float({g}['eps'])")
        for kp, gv, dv in entries:
            pn = pname(kp)
            w = fmt(dv) if dv is not None else f"{obj(kp)}.data"
            if dv is None:
                local = fresh(pn)
                body.append(f"{local} = {w}")
                w = local
            grad = fmt(gv)
            like = array(kp)
            s0 = const(opt._scratch(like, 0), "step_" + pn)
            gg = grad
            if wd and not getattr(opt, "_decoupled", False):
                s1 = const(opt._scratch(like, 1), "decayed_" + pn)
                body.append(f"np.multiply({w}, {wd}, out={s1})")
                body.append(f"np.add({s1}, {grad}, out={s1})")
                gg = s1
            if sgd:
                if mu:
                    stateful = True
                    buf = fresh("momentum_buffer_" + pn)
                    head.append(f"{buf} = {o}.state[{obj(kp)}]['momentum_buffer']")
                    body.append(f"{buf} *= {mu}")
                    if damp:
                        body.append(f"np.multiply({gg}, {damp}, out={s0})")
                        body.append(f"{buf} += {s0}")
                    else:
                        body.append(f"{buf} += {gg}")
                    if group["nesterov"]:
                        body.append(f"np.multiply({buf}, {mu}, out={s0})")
                        body.append(f"np.add({s0}, {gg}, out={s0})")
                        gg = s0
                    else:
                        gg = buf
                body.append(f"np.multiply({gg}, {lr}, out={s0})")
                body.append(f"{w} -= {s0}")
            elif rms:
                stateful = True
                st, sq = fresh("state_" + pn), fresh("square_avg_" + pn)
                head.append(f"{st} = {o}.state[{obj(kp)}]")
                head.append(f"{sq} = {st}['square_avg']")
                body.append(f"{st}['step'] += 1")
                body.append(f"{sq} *= {alpha}")
                body.append(f"np.multiply({gg}, {gg}, out={s0})")
                body.append(f"np.multiply({s0}, 1.0 - {alpha}, out={s0})")
                body.append(f"{sq} += {s0}")
                if group["centered"]:
                    a = fresh("grad_avg_" + pn)
                    head.append(f"{a} = {st}['grad_avg']")
                    body.append(f"{a} *= {alpha}")
                    body.append(f"np.multiply({gg}, 1.0 - {alpha}, out={s0})")
                    body.append(f"{a} += {s0}")
                    body.append(f"np.multiply({a}, {a}, out={s0})")
                    body.append(f"np.subtract({sq}, {s0}, out={s0})")
                    body.append(f"np.maximum({s0}, 0.0, out={s0})")
                    body.append(f"np.sqrt({s0}, out={s0})")
                else:
                    body.append(f"np.sqrt({sq}, out={s0})")
                body.append(f"np.add({s0}, {eps}, out={s0})")
                body.append(f"np.divide({gg}, {s0}, out={s0})")
                if mu:
                    buf = fresh("momentum_buffer_" + pn)
                    head.append(f"{buf} = {st}['momentum_buffer']")
                    body.append(f"{buf} *= {mu}")
                    body.append(f"{buf} += {s0}")
                    body.append(f"np.multiply({buf}, {lr}, out={s0})")
                else:
                    body.append(f"np.multiply({s0}, {lr}, out={s0})")
                body.append(f"{w} -= {s0}")
            else:
                stateful = True
                st, m, v, t = (fresh("state_" + pn), fresh("exp_avg_" + pn),
                               fresh("exp_avg_sq_" + pn), fresh("t"))
                head.append(f"{st} = {o}.state[{obj(kp)}]")
                head.append(f"{m}, {v} = {st}['exp_avg'], {st}['exp_avg_sq']")
                if wd and getattr(opt, "_decoupled", False):
                    body.append(f"{w} *= 1.0 - {lr} * {wd}")
                body.append(f"{st}['step'] = {t} = {st}['step'] + 1")
                body.append(f"{m} *= {b1}")
                body.append(f"np.multiply({gg}, 1.0 - {b1}, out={s0})")
                body.append(f"{m} += {s0}")
                body.append(f"{v} *= {b2}")
                body.append(f"np.multiply({gg}, {gg}, out={s0})")
                body.append(f"np.multiply({s0}, 1.0 - {b2}, out={s0})")
                body.append(f"{v} += {s0}")
                body.append(f"np.sqrt({v}, out={s0})")
                body.append(f"np.divide({s0}, math.sqrt(1.0 - {b2}**{t}), out={s0})")
                body.append(f"np.add({s0}, {eps}, out={s0})")
                body.append(f"np.divide({m}, {s0}, out={s0})")
                body.append(f"np.multiply({s0}, {lr} / (1.0 - {b1}**{t}), out={s0})")
                body.append(f"{w} -= {s0}")
            written.append(w)
    if written:
        body.append(f"_note_writes(({', '.join(written)}{',' if len(written) == 1 else ''}))")
    lines = [f"# {o}.step(), written out: hyperparameters and state read at every call"]
    if stateful:
        # state missing (cleared, or reloaded without it): the optimizer runs as itself
        lines.append("try:")
        lines += ["    " + ln for ln in head]
        lines.append("except KeyError:")
        lines.append(f"    {o}.step()")
        lines.append("else:")
        lines += ["    " + ln for ln in body]
    else:
        lines += body
    return lines

