"""`Module`, the base of every layer, and `Parameter`, the tensors a module trains.

A module registers the `Parameter`s and sub-`Module`s assigned to its attributes, and the
buffers given to `register_buffer` (state that is saved but not trained, such as batch norm's
running statistics), so that ``parameters()``, ``state_dict()``, ``train()``/``eval()``,
``to(dtype)`` and ``zero_grad()`` reach the whole tree. Names are dotted paths through it:
``"fc1.weight"``, ``"0.bias"`` inside a `Sequential`.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional, Union

import numpy as np

from .. import dtypes
from ..spellings import to_args
from ..tensor import Tensor, _const
from .hooks import ForwardHooks, RemovableHandle


class Parameter(Tensor):
    """A leaf Tensor that a `Module` trains: ``requires_grad=True`` unless told otherwise.

    ``Parameter(data)``: the data is copied into a floating array. Python floats, lists and
    integer data become the default dtype (``tg.get_default_dtype()``); a floating numpy array
    (or Tensor) keeps its dtype.

    Examples:
        >>> import numpy as np, tensorgrad.nn as nn
        >>> p = nn.Parameter([1, 2])              # integers become the default float dtype
        >>> p.requires_grad, p.is_leaf, p.dtype
        (True, True, dtype('float32'))
        >>> nn.Parameter(np.zeros(2)).dtype       # a floating array keeps its dtype
        dtype('float64')
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        if isinstance(data, Tensor):
            data = data.data
        arr = dtypes.to_array(data, copy=False)  # Tensor.__init__ below copies
        if arr.dtype.kind != "f":
            arr = arr.astype(dtypes.get_default_dtype())
        super().__init__(arr, requires_grad=requires_grad, dtype=arr.dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` skipped: the names it found no value for and
    the names in the dict that the module does not have."""

    missing_keys: list
    unexpected_keys: list


class StateDictError(RuntimeError, ValueError):
    """A state dict does not fit a module (missing or unexpected names, wrong shapes). Raised
    before anything is copied, so the module is unchanged. Both a RuntimeError (as PyTorch
    raises) and a ValueError."""


class Module:
    """Base class of all layers and models.

    Subclasses call ``super().__init__()`` first, assign their `Parameter`s and sub-modules as
    attributes and define ``forward``; calling the module calls ``forward``::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(64, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))

    Examples:
        Parameters, names and modes reach the whole tree of sub-modules:

        >>> import tensorgrad.nn as nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> [name for name, p in model.named_parameters()]
        ['0.weight', '0.bias', '2.weight', '2.bias']
        >>> sum(p.size for p in model.parameters())     # 4*8 + 8 + 8*2 + 2
        58
        >>> model.eval().training, model[0].training
        (False, False)
    """

    training: bool

    def __init__(self) -> None:
        # Set through object.__setattr__: our own __setattr__ consults these dicts.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    # Set (in the instance) only while forward hooks are registered: a call without hooks is
    # one attribute test and `forward`.
    _hooks: Optional[ForwardHooks] = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._hooks is None:
            return self.forward(*args, **kwargs)
        return self._hooks.call(args, kwargs)

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every ``forward`` (`inputs`: the tuple of
        positional arguments); a hook that returns something other than None replaces the
        output. Returns a handle whose ``.remove()`` unregisters the hook."""
        hooks = self._own_hooks()
        return hooks.add(hooks.post, hook, "forward_hook")

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every ``forward``; a hook that returns
        something other than None replaces the inputs (a tuple, or a single argument).
        Returns a handle whose ``.remove()`` unregisters the hook."""
        hooks = self._own_hooks()
        return hooks.add(hooks.pre, hook, "forward_pre_hook")

    def _own_hooks(self) -> ForwardHooks:
        hooks = self.__dict__.get("_hooks")
        if hooks is None:
            hooks = self.__dict__["_hooks"] = ForwardHooks(self)
        return hooks

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, (Parameter, Module)):
            if params is None or modules is None:
                raise AttributeError(
                    f"cannot assign {type(value).__name__} {name!r} before Module.__init__() "
                    f"ran: call super().__init__() first in {type(self).__name__}.__init__")
            # Drop the name from the other stores only: reassigning keeps the registration
            # order (and so the state dict's).
            own, other = (params, modules) if isinstance(value, Parameter) else (modules, params)
            other.pop(name, None)
            self.__dict__.get("_buffers", {}).pop(name, None)
            own[name] = value
            # Also an ordinary attribute, so that reading `self.weight` on the hot path is a
            # plain lookup rather than a __getattr__ call; the two dicts stay the registry.
            self.__dict__[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to parameter {name!r} of "
                                f"{type(self).__name__}: expected an nn.Parameter or None")
            params[name] = None
            self.__dict__[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to submodule {name!r} of "
                                f"{type(self).__name__}: expected an nn.Module or None")
            modules[name] = None
            self.__dict__[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            self._buffers[name] = self.__dict__[name] = _buffer(type(self).__name__, name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: registered entries live in the two dicts.
        for store in ("_parameters", "_modules", "_buffers"):
            d = self.__dict__.get(store)
            if d is not None and name in d:
                return d[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_modules", "_buffers"):
            d = self.__dict__.get(store)
            if d is not None and name in d:
                del d[name]
                self._non_persistent.discard(name)
                self.__dict__.pop(name, None)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Optional[Parameter]) -> None:
        """Register `param` (or None: a parameter slot left empty, like ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be an nn.Parameter or None, "
                            f"got {type(param).__name__}")
        if "_parameters" not in self.__dict__:
            raise AttributeError("register_parameter: call super().__init__() first")
        self.__dict__.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        self._parameters[name] = param
        self.__dict__[name] = param

    def add_module(self, name: str, module: Optional[Module]) -> None:
        """Register `module` as the child `name` (also for names that are not identifiers)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be an nn.Module or None, "
                            f"got {type(module).__name__}")
        if "_modules" not in self.__dict__:
            raise AttributeError("add_module: call super().__init__() first")
        self.__dict__.pop(name, None)
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module
        self.__dict__[name] = module

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register `tensor` (an array, a Tensor or None) as the buffer `name`: state that the
        module keeps and saves but does not train, such as batch norm's running statistics.

        A buffer is read as ``self.<name>`` (a Tensor that does not require grad, sharing the
        array it was given) and may be reassigned the same way; it is in ``state_dict()``
        (unless ``persistent=False``), so it is saved and loaded, ``to(dtype)`` converts it
        when it is floating, and it is never among ``parameters()``.

        Examples:
            >>> import numpy as np, tensorgrad.nn as nn
            >>> m = nn.Module()
            >>> m.register_buffer("steps", np.array(0))
            >>> m.steps = m.steps + 1                 # reassigned: still the buffer
            >>> dict(m.state_dict()), list(m.parameters())
            ({'steps': array(1)}, [])
        """
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: the name must be a non-empty string without "
                           f"'.', got {name!r}")
        if "_buffers" not in self.__dict__:
            raise AttributeError("register_buffer: call super().__init__() first")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: {name!r} is already a parameter or submodule of "
                           f"{type(self).__name__}")
        if name in self.__dict__ and name not in self._buffers:
            raise KeyError(f"register_buffer: attribute {name!r} already exists in "
                           f"{type(self).__name__}")
        value = _buffer(type(self).__name__, name, tensor)
        self._buffers[name] = self.__dict__[name] = value
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module (name `prefix`) and every descendant,
        depth first in registration order; a module reachable by several paths is listed
        once unless ``remove_duplicate=False``."""
        seen: set = set()
        stack: list = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate and id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()
                    if c is not None]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct sub-modules."""
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, m in self.named_children():
            yield m

    def _all_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        # Every (name, parameter) pair, a shared parameter once per name: what a state dict
        # holds. The public iterators below list each parameter once.
        for name, m in self.named_modules(prefix, remove_duplicate=False):
            for pname, p in m._parameters.items():
                if p is not None:
                    yield (f"{name}.{pname}" if name else pname), p

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for every parameter of the tree, in registration order;
        a parameter shared by several modules is listed once, under its first name."""
        seen: set = set()
        for name, p in self._all_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter of the tree, once each (what an optimizer takes)."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` for every buffer of the tree (of this module only with
        ``recurse=False``), each once; buffers set to None are skipped."""
        seen: set = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for name, m in mods:
            for bname, b in m._buffers.items():
                if b is not None and id(b) not in seen:
                    seen.add(id(b))
                    yield (f"{name}.{bname}" if name else bname), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer of the tree, once each."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _all_state(self) -> Iterator[tuple[str, Tensor]]:
        # What a state dict holds, in PyTorch's order: each module's parameters, then its
        # persistent buffers, then its children's.
        for name, m in self.named_modules(remove_duplicate=False):
            pre = f"{name}." if name else ""
            for pname, p in m._parameters.items():
                if p is not None:
                    yield pre + pname, p
            for bname, b in m._buffers.items():
                if b is not None and bname not in m._non_persistent:
                    yield pre + bname, b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(m)`` for every module of the tree (children first); returns self."""
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=False``: evaluation mode) on the whole tree; returns self.
        Only layers like `Dropout` behave differently."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """Convert every parameter and floating buffer to the floating `dtype` in place;
        returns self. (Integer buffers such as ``num_batches_tracked`` keep their dtype.)

        The parameters get new arrays (and lose their gradients), so convert before making
        an optimizer. PyTorch's ``model.to('cpu')`` is accepted and changes nothing (there is
        no other device)."""
        d = to_args("Module.to", args, dtype, device, None)
        if d is None:
            return self
        if d.kind != "f":
            raise TypeError(f"Module.to: expected a floating dtype, got {d}")
        for p in self.parameters():
            if p.data.dtype != d:
                p.data = p.data.astype(d)
                p.grad = None
        for b in self.buffers():
            if b.data.dtype.kind == "f" and b.data.dtype != d:
                b.data = b.data.astype(d)
        return self

    def double(self) -> Module:
        """``to(np.float64)``."""
        return self.to(np.float64)

    def float(self) -> Module:
        """``to(np.float32)``."""
        return self.to(np.float32)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Every parameter's and persistent buffer's value by dotted name, as copies (later
        training does not change them), in registration order (each module's parameters, its
        buffers, then its children's, as in PyTorch)."""
        return OrderedDict((name, p.data.copy()) for name, p in self._all_state())

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy the values of `state_dict` (name -> array or Tensor) into the parameters and
        persistent buffers.

        The values are written into the existing arrays, in each parameter's dtype, so an
        optimizer holding the parameters keeps working. Everything is checked first: a
        shape mismatch or a non-numeric value, and with ``strict=True`` (default) a missing
        or unexpected name, raise `StateDictError` naming every problem, and then nothing
        has been changed. Returns the missing and unexpected names (empty when strict).

        Examples:
            >>> import tensorgrad.nn as nn
            >>> a, b = nn.Linear(2, 3), nn.Linear(2, 3)
            >>> b.load_state_dict(a.state_dict())
            IncompatibleKeys(missing_keys=[], unexpected_keys=[])
            >>> bool((b.weight.data == a.weight.data).all())
            True
            >>> nn.Linear(3, 3).load_state_dict(a.state_dict())
            Traceback (most recent call last):
                ...
            tensorgrad.nn.module.StateDictError: Error(s) in loading state_dict for Linear ...
            size mismatch for 'weight': the state dict has shape (2, 3), the parameter in the model
            has shape (3, 3)
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of name -> array, got "
                            f"{type(state_dict).__name__}")
        own = list(self._all_state())
        names = {name for name, _ in own}
        missing = [name for name, _ in own if name not in state_dict]
        unexpected = [str(k) for k in state_dict if k not in names]
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: "
                            + ", ".join(map(repr, unexpected)))
        todo = []
        for name, p in own:
            if name not in state_dict:
                continue
            value = state_dict[name]
            try:
                arr = value.data if isinstance(value, Tensor) else np.asarray(value)
            except (ValueError, TypeError) as e:
                problems.append(f"{name!r}: not an array ({e})")
                continue
            if arr.dtype.kind not in "biuf":
                problems.append(f"{name!r}: dtype {arr.dtype} is not a real number type")
            elif arr.shape != p.data.shape:
                what = "parameter" if isinstance(p, Parameter) else "buffer"
                problems.append(f"size mismatch for {name!r}: the state dict has shape "
                                f"{arr.shape}, the {what} in the model has shape "
                                f"{p.data.shape}")
            else:
                todo.append((p, arr))
        if problems:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__} (nothing was "
                "loaded, the model is unchanged):\n\t" + "\n\t".join(problems))
        for p, arr in todo:
            np.copyto(p.data, arr, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: Any) -> None:
        """Write ``state_dict()`` to `path` as an .npz archive (see `tensorgrad.save`)."""
        from ..serialization import save

        save(self.state_dict(), path)

    def load(self, path: Any, strict: bool = True) -> IncompatibleKeys:
        """Load parameters saved with `save` (see `load_state_dict`). A missing, corrupt or
        non-.npz file, or one that does not fit, raises and leaves the module unchanged."""
        from ..serialization import load

        return self.load_state_dict(load(path), strict=strict)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The arguments shown inside this module's parentheses in ``repr``."""
        return ""

    def __repr__(self) -> str:
        lines = [self.extra_repr()] if self.extra_repr() else []
        for name, m in self._modules.items():
            lines.append(f"({name}): " + repr(m).replace("\n", "\n  "))
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(64, 128), ReLU(), ...)``.

    The children are named ``"0"``, ``"1"`` ... (or by the keys of a single OrderedDict
    argument). Supports ``len``, iteration, ``model[i]`` (a module) and ``model[a:b]`` (a
    Sequential of those modules, keeping their names), and ``append``.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> model(tg.ones((5, 4))).shape            # (N, 4) -> (N, 8) -> (N, 2)
        (5, 2)
        >>> len(model), model[1], list(model[1:].state_dict())
        (3, ReLU(), ['2.weight', '2.bias'])
    """

    def __init__(self, *modules: Union[Module, Mapping[str, Module]]) -> None:
        super().__init__()
        first = modules[0] if len(modules) == 1 else None
        named = first.items() if isinstance(first, Mapping) else \
            ((str(i), m) for i, m in enumerate(modules))
        for name, m in named:
            self.add_module(str(name), _check_module("Sequential", m))

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, idx: Union[int, slice]) -> Any:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[_index("Sequential", idx, len(items))][1]

    def append(self, module: Module) -> Sequential:
        """Add `module` at the end (named by its position); returns self."""
        self.add_module(str(len(self)), _check_module("Sequential", module))
        return self


class ModuleList(Module):
    """A list of modules that registers them (so their parameters are found), named
    ``"0"``, ``"1"`` ...; it has no forward of its own."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, idx: Union[int, slice]) -> Any:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[_index("ModuleList", idx, len(mods))]

    def __setitem__(self, idx: int, module: Module) -> None:
        i = _index("ModuleList", idx, len(self))
        self.add_module(str(i), _check_module("ModuleList", module))

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), _check_module("ModuleList", module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self


class ModuleDict(Module):
    """A dict of modules that registers them under their keys (so ``"encoder.0.weight"``
    style names reach them); it has no forward of its own. Keeps insertion order.

    Examples:
        >>> import tensorgrad.nn as nn
        >>> heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Linear(4, 1)})
        >>> heads["aux"] = nn.Linear(4, 2)
        >>> list(heads), len(heads), "cls" in heads
        (['cls', 'reg', 'aux'], 3, True)
        >>> [n for n, _ in heads.named_parameters()][:2]
        ['cls.weight', 'cls.bias']
    """

    def __init__(self, modules: Optional[Union[Mapping[str, Module], Iterable[tuple]]] = None
                 ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r} (keys: {list(self._modules)})")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__}")
        self.add_module(key, _check_module("ModuleDict", module))

    def __delitem__(self, key: str) -> None:
        self._modules.pop(key)
        self.__dict__.pop(key, None)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list:
        return list(self._modules.keys())

    def values(self) -> list:
        return list(self._modules.values())

    def items(self) -> list:
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m

    def clear(self) -> None:
        for k in list(self._modules):
            del self[k]

    def update(self, modules: Union[Mapping[str, Module], Iterable[tuple]]) -> None:
        """Add (or replace) modules from a mapping or an iterable of (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, m in pairs:
            self[key] = m


def _buffer(owner: str, name: str, value: Any) -> Optional[Tensor]:
    """A buffer's value as a Tensor that needs no gradient (None stays None)."""
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, (Module, str)):
        raise TypeError(f"{owner}: buffer {name!r} must be an array, a Tensor or None, got "
                        f"{type(value).__name__}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: buffer {name!r} must hold numbers, got dtype {arr.dtype}")
    return _const(arr)


def _check_module(owner: str, m: Any) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{owner}: expected nn.Module instances, got {type(m).__name__}")
    return m


def _index(owner: str, idx: Any, n: int) -> int:
    if not isinstance(idx, (int, np.integer)) or isinstance(idx, bool):
        raise TypeError(f"{owner} indices must be integers or slices, got {type(idx).__name__}")
    if not -n <= idx < n:
        raise IndexError(f"{owner} index {idx} is out of range for length {n}")
    return int(idx) % n
