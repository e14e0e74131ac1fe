"""TFLite / LiteRT and GraphDef evaluation, meant for the ``evaluator``.

The evaluator is a sandboxed worker that holds no learner code. Flatbuffers
and GraphDefs a learner produced are parsed and run only here (a crafted
artifact can crash this process, nothing else). The reference artifacts
every submission is compared with are made in the evaluator too, by
``grader/judging/evaluators/conversion.py``, which the learner bundle leaves out:
nothing in this module can produce a graded artifact.

Flatbuffers are read twice over: with the LiteRT interpreter
(``ai_edge_litert.interpreter.Interpreter``) to run them, and with the
flatbuffer schema (``ai_edge_litert.schema_py_generated``) to see what is
stored inside (tensor types of the weights, operators), which the
interpreter does not say.

Every recipe returns plain data (numbers, strings, lists, dicts, numpy
arrays); none returns an object of the artifact.
"""
from __future__ import annotations

import numpy as np

from grader.learner_text import shorten

KINDS = ("float32", "float16", "dynamic_range", "int8")
_NUMPY_TYPES = {"FLOAT32": "float32", "FLOAT16": "float16", "INT8": "int8", "UINT8": "uint8",
                "INT32": "int32", "INT64": "int64", "INT16": "int16", "FLOAT64": "float64", "BOOL": "bool"}
VARIABLE_OPS = frozenset({
    "VarHandleOp", "ReadVariableOp", "ResourceGather", "ResourceGatherNd", "AssignVariableOp",
    "AssignAddVariableOp", "AssignSubVariableOp", "VarIsInitializedOp", "VariableV2", "Variable",
    "TemporaryVariable", "DestroyResourceOp", "ResourceApplyGradientDescent",
})


# ----------------------------------------------------------------------------- running flatbuffers

def _interpreter(content: bytes):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_content=bytes(content))


def predict(content: bytes, x) -> np.ndarray:
    """Run a single-input, single-output flatbuffer on the batch ``x``; float32 outputs.

    Integer inputs are quantized with the input tensor's scale and zero point,
    integer outputs dequantized with the output's, so an int8 model answers in
    the same units as a float one.
    """
    x = np.asarray(x, dtype=np.float32)
    interpreter = _interpreter(content)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"expected one input and one output, found {len(inputs)} and {len(outputs)}")
    source, target = inputs[0], outputs[0]
    interpreter.resize_tensor_input(source["index"], list(x.shape))
    interpreter.allocate_tensors()
    feed = x
    if np.issubdtype(source["dtype"], np.integer):
        scale, zero = source["quantization"]
        info = np.iinfo(source["dtype"])
        scale = scale or 1.0
        feed = np.clip(np.round(x / scale + zero), info.min, info.max).astype(source["dtype"])
    interpreter.set_tensor(source["index"], feed.astype(source["dtype"], copy=False))
    interpreter.invoke()
    out = interpreter.get_tensor(target["index"])
    if np.issubdtype(out.dtype, np.integer):
        scale, zero = target["quantization"]
        out = (out.astype(np.float32) - zero) * (scale or 1.0)
    return np.asarray(out, dtype=np.float32)


# How far a conversion's outputs may stray from the Keras model it converts, by variant: the mean
# absolute difference of the output probabilities on probe inputs (``grader.sandbox.recipes.keras.probe_inputs``:
# off the data's clusters, inside the calibration range). Measured on mlp, mlp_b and fragile_b: honest
# float16 <= 0.0003, dynamic range <= 0.0017, int8 <= 0.0042 (fragile's 8-bit variants aside: they are
# built to fail); another model trained on the same data, of the same or a smaller architecture and
# converted to any variant, >= 0.10. The limits sit 7x or more above the first and 3x below the second.
AGREEMENT = {"float32": 1e-5, "float16": 0.01, "dynamic_range": 0.02, "int8": 0.03}


def deviation(outputs, expected) -> float:
    """Mean absolute difference of two output batches; infinite when shapes differ or outputs are not numbers."""
    outputs, expected = np.asarray(outputs, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if outputs.shape != expected.shape or not np.all(np.isfinite(outputs)):
        return float("inf")
    return float(np.mean(np.abs(outputs - expected)))


def accuracy_of(content: bytes, x, y) -> float:
    outputs = predict(content, x)
    return float(np.mean(outputs.argmax(axis=1) == np.asarray(y)))


def run(ctx, content: bytes, x) -> np.ndarray:
    """The flatbuffer's (dequantized) float32 outputs for the batch ``x``."""
    return predict(content, x)


def evaluate(ctx, content: bytes, x, y) -> dict:
    """``{"accuracy", "finite", "shape"}``: accuracy on ``(x, y)`` and whether every output is a number."""
    outputs = predict(content, x)
    return {
        "accuracy": float(np.mean(outputs.argmax(axis=1) == np.asarray(y))),
        "finite": bool(np.all(np.isfinite(outputs))),
        "shape": list(outputs.shape),
    }


# ----------------------------------------------------------------------------- inside a flatbuffer

def _type_names() -> dict:
    from ai_edge_litert import schema_py_generated as schema

    return {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


def _op_names() -> dict:
    from ai_edge_litert import schema_py_generated as schema

    return {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


_ITEM_BYTES = {"float32": 4, "float16": 2, "int8": 1, "uint8": 1, "int32": 4, "int64": 8, "int16": 2,
               "float64": 8, "bool": 1}


def _live_operators(graph) -> list:
    """The operators the graph's outputs depend on, in graph order.

    Only what an operator reads can shape the model's answers, so only those
    tensors are counted: a constant no live operator reads (or one read by an
    operator whose result goes nowhere) is decoration, and could otherwise be
    sized to flip the weight shares.
    """
    operators = list(graph.operators or [])
    needed = {int(i) for i in (graph.outputs if graph.outputs is not None else [])}
    live = []
    for operator in reversed(operators):  # operators are stored in execution order
        outputs = {int(i) for i in (operator.outputs if operator.outputs is not None else [])}
        if outputs & needed:
            live.append(operator)
            needed |= {int(i) for i in (operator.inputs if operator.inputs is not None else []) if int(i) >= 0}
    return live[::-1]


def _stored_elements(tensor, buffer, dtype: str) -> int:
    """Elements a constant really stores: its shape's product, but never more than its buffer holds.

    A sparse tensor's buffer holds only its non-zero values, and a lying shape
    claims more than its bytes: either would otherwise inflate a weight share.
    """
    claimed = int(np.prod([int(d) for d in (tensor.shape if tensor.shape is not None else [])]))
    stored = len(buffer.data) if buffer.data is not None and len(buffer.data) else int(buffer.size or 0)
    return min(claimed, stored // _ITEM_BYTES.get(dtype, 1))


def inspect(ctx, content: bytes) -> dict:
    """What a flatbuffer holds, as data, read from what its operators use.

    ``size``; ``inputs`` / ``outputs``: ``[{"name", "dtype", "shape"}]``;
    ``ops``: builtin operator names (custom ops as ``CUSTOM:<code>``) of the
    live operators (those the outputs depend on), ``dead_ops`` how many others;
    ``weights``: ``{dtype: number of elements}`` over constant tensors of rank
    2 or more that live operators read (the weight matrices; biases are rank 1),
    each counted by the elements its buffer really stores; ``sparse``: how many
    of them are stored sparse; ``activations``: ``{dtype: count}`` over
    non-constant tensors live operators use, ``internal_activations`` the same
    without the model's own inputs and outputs; ``reads_variables``: whether
    live operators read resource variables at run time (``VARIABLE_BUILTINS``
    or resource tensors: weights not folded in); ``kind``: one of ``KINDS``, or
    ``"other"`` (for example int8 weights and activations with float input and
    output), or ``"unreadable"``.
    """
    from ai_edge_litert import schema_py_generated as schema

    content = bytes(content)
    info: dict = {"size": len(content)}
    try:
        model = schema.ModelT.InitFromPackedBuf(content, 0)
    except Exception as exc:  # noqa: BLE001 - a malformed artifact is a finding, not a crash
        info.update(kind="unreadable", error=shorten(f"{type(exc).__name__}: {exc}", 300))
        return info
    types, op_names = _type_names(), _op_names()
    subgraphs = model.subgraphs or []
    info["subgraphs"] = len(subgraphs)
    if not subgraphs:
        info.update(kind="unreadable", error="no subgraph")
        return info
    graph = subgraphs[0]
    tensors = graph.tensors or []
    buffers = model.buffers or []

    def dtype_of(tensor) -> str:
        return _NUMPY_TYPES.get(types.get(tensor.type, "?"), types.get(tensor.type, "?").lower())

    def buffer_of(tensor):
        if tensor.buffer is None or tensor.buffer >= len(buffers) or tensor.buffer == 0:
            return None
        buffer = buffers[tensor.buffer]
        return buffer if (buffer.data is not None and len(buffer.data) > 0) or buffer.size else None

    def describe(index) -> dict:
        tensor = tensors[int(index)]
        return {"name": (tensor.name or b"").decode("utf-8", "replace"), "dtype": dtype_of(tensor),
                "shape": [int(d) for d in (tensor.shape if tensor.shape is not None else [])]}

    graph_inputs = [int(i) for i in (graph.inputs if graph.inputs is not None else [])]
    graph_outputs = [int(i) for i in (graph.outputs if graph.outputs is not None else [])]
    live = _live_operators(graph)
    used = set(graph_inputs) | set(graph_outputs)
    for operator in live:
        used |= {int(i) for i in list(operator.inputs if operator.inputs is not None else [])
                 + list(operator.outputs if operator.outputs is not None else []) if 0 <= int(i) < len(tensors)}
    boundary = set(graph_inputs) | set(graph_outputs)
    weights: dict = {}
    activations: dict = {}
    internal: dict = {}
    sparse = 0
    for index in sorted(i for i in used if i < len(tensors)):
        tensor, dtype = tensors[index], dtype_of(tensors[index])
        buffer = buffer_of(tensor)
        if buffer is not None:
            if len(tensor.shape if tensor.shape is not None else []) >= 2:
                weights[dtype] = weights.get(dtype, 0) + _stored_elements(tensor, buffer, dtype)
                sparse += tensor.sparsity is not None
        else:
            activations[dtype] = activations.get(dtype, 0) + 1
            if index not in boundary:
                internal[dtype] = internal.get(dtype, 0) + 1
    ops = []
    for operator in live:
        code = model.operatorCodes[operator.opcodeIndex]
        number = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        name = op_names.get(number, str(number))
        if name == "CUSTOM":
            name = f"CUSTOM:{(code.customCode or b'').decode('utf-8', 'replace')}"
        ops.append(name)
    info.update(
        inputs=[describe(i) for i in graph_inputs], outputs=[describe(i) for i in graph_outputs],
        ops=ops, dead_ops=len(graph.operators or []) - len(live), weights=weights, sparse=sparse,
        activations=activations, internal_activations=internal,
        reads_variables=bool(set(ops) & VARIABLE_BUILTINS) or activations.get("resource", 0) > 0,
    )
    info["kind"] = _kind(info)
    return info


# Bounds of ``fingerprint``: a course model has a handful of operators, each reading a few tensors. A crafted
# flatbuffer picks these numbers, so each is capped, and the work is linear in what is kept, never in what is claimed.
MAX_FINGERPRINT_OPS = 2_000  # more operators than this: the model is not read (an answer saying so)
MAX_FINGERPRINT_IO = 64  # inputs (and outputs) of one operator, or of the graph, considered
MAX_FINGERPRINT_DIMS = 8  # dimensions of a shape shown
MAX_FINGERPRINT_OP_CHARS = 400  # one operator's description
MAX_FINGERPRINT_WEIGHTS = 2_000  # distinct constants digested
MAX_FINGERPRINT_CHARS = 1_000_000  # the whole answer's text; what does not fit is left out ("truncated")


def fingerprint(ctx, content: bytes) -> dict:
    """What two flatbuffers can be compared on for similarity, without any name a person chose.

    ``{"ok", "error", "truncated", "ops": ["FULLY_CONNECTED(float32[1,20],float32[256,20]*)->float32[1,256]", ...],
    "weights": [{"digest", "dtype"}]}``: the live operators in order, each with the dtypes and shapes
    of what it reads and writes (``*`` marks a constant), and a SHA-256 of the bytes of every constant they read
    (weights, biases, quantization tables included). Tensor and signature names are left out: renaming them is
    the first thing a copy changes. Read here, in the evaluator, because parsing a learner's flatbuffer is a
    native parser's work.

    The flatbuffer is read lazily (``schema.Model.GetRootAs``, nothing unpacked that is not used), each
    tensor is described and each buffer digested once however often operators name it, and every count,
    string and the answer as a whole are bounded (``MAX_FINGERPRINT_*``): a crafted file costs at most a
    bounded amount of work, and its answer a bounded size.
    """
    try:
        return _fingerprint(bytes(content))
    except Exception as exc:  # noqa: BLE001 - a malformed artifact is a finding, not a crash
        return {"ok": False, "error": shorten(f"{type(exc).__name__}: {exc}", 300), "truncated": False,
                "ops": [], "weights": []}


def _fingerprint(content: bytes) -> dict:
    import hashlib

    from ai_edge_litert import schema_py_generated as schema

    def failed(error: str) -> dict:
        return {"ok": False, "error": error, "truncated": False, "ops": [], "weights": []}

    model = schema.Model.GetRootAs(content, 0)
    if model.SubgraphsLength() < 1:
        return failed("no subgraph")
    graph = model.Subgraphs(0)
    count, tensor_count = graph.OperatorsLength(), graph.TensorsLength()
    buffer_count, code_count = model.BuffersLength(), model.OperatorCodesLength()
    if count > MAX_FINGERPRINT_OPS:
        return failed(f"more than {MAX_FINGERPRINT_OPS} operators")
    types, op_names = _type_names(), _op_names()

    def indices(length: int, at) -> list[int]:
        return [int(at(k)) for k in range(min(length, MAX_FINGERPRINT_IO))]

    operators = [graph.Operators(k) for k in range(count)]
    reads = [indices(op.InputsLength(), op.Inputs) for op in operators]
    writes = [indices(op.OutputsLength(), op.Outputs) for op in operators]
    needed, live = set(indices(graph.OutputsLength(), graph.Outputs)), []
    for k in reversed(range(count)):  # operators are stored in execution order (as ``_live_operators``)
        if set(writes[k]) & needed:
            live.append(k)
            needed |= {i for i in reads[k] if i >= 0}
    live.reverse()

    digests: dict[int, str | None] = {}  # buffer index -> sha256 of its bytes (None: not a constant)
    described: dict[int, tuple[str, str | None]] = {}  # tensor index -> (description, digest)

    def digest_of(buffer_index: int) -> str | None:
        if buffer_index not in digests:
            digests[buffer_index] = None
            if 0 < buffer_index < buffer_count:
                buffer = model.Buffers(buffer_index)
                if buffer.DataLength() > 0:
                    data = buffer.DataAsNumpy()  # a view of the file's bytes: hashed, never copied
                    digests[buffer_index] = hashlib.sha256(memoryview(data)).hexdigest()
        return digests[buffer_index]

    def describe(index: int) -> tuple[str, str | None]:
        if not 0 <= index < tensor_count:
            return "none", None
        if index not in described:
            tensor = graph.Tensors(index)
            dtype = _NUMPY_TYPES.get(types.get(tensor.Type(), "?"), str(tensor.Type()))[:20]
            dims = [str(int(tensor.Shape(d))) for d in range(min(tensor.ShapeLength(), MAX_FINGERPRINT_DIMS))]
            if tensor.ShapeLength() > MAX_FINGERPRINT_DIMS:
                dims.append("…")
            digest = digest_of(int(tensor.Buffer()))
            described[index] = (f"{dtype}[{','.join(dims)}]" + ("*" if digest is not None else ""), digest)
        return described[index]

    ops, weights, seen, budget, truncated = [], [], set(), MAX_FINGERPRINT_CHARS, False
    for k in live:
        opcode = operators[k].OpcodeIndex()
        code = model.OperatorCodes(opcode) if 0 <= opcode < code_count else None
        name = "?" if code is None else op_names.get(max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode())), "?")
        text = (f"{name}({','.join(describe(i)[0] for i in reads[k])})"
                f"->{','.join(describe(i)[0] for i in writes[k])}")[:MAX_FINGERPRINT_OP_CHARS]
        if len(text) > budget:
            truncated = True
            break
        ops.append(text)
        budget -= len(text)
        for index in reads[k]:
            description, digest = describe(index)
            if digest is None or index in seen:
                continue
            if len(weights) >= MAX_FINGERPRINT_WEIGHTS or budget < 64 + len(description):
                truncated = True
                continue
            seen.add(index)
            weights.append({"digest": digest, "dtype": description})
            budget -= 64 + len(description)
    return {"ok": True, "error": None, "truncated": truncated, "ops": ops, "weights": weights}


# Builtins of a flatbuffer that keeps its weights as resource variables (converted from a concrete function
# with the model as its trackable object and resource variables enabled): they are read at run time, and
# since nothing assigns them in the interpreter, the model outputs NaN.
VARIABLE_BUILTINS = frozenset({"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE"})


def weight_share(info: dict, dtype: str) -> float:
    """The share of weight-matrix elements stored as ``dtype``."""
    total = sum(info.get("weights", {}).values())
    return info.get("weights", {}).get(dtype, 0) / total if total else 0.0


def _kind(info: dict) -> str:
    io = {t["dtype"] for t in info["inputs"] + info["outputs"]}
    if weight_share(info, "float16") >= 0.9 and io == {"float32"}:
        return "float16"
    if weight_share(info, "int8") >= 0.9:
        if io == {"int8"} and not any(op.startswith("DEQUANTIZE") for op in info["ops"]):
            return "int8"
        if io == {"float32"} and info["activations"].get("int8", 0) == 0:
            return "dynamic_range"
        return "other"
    if weight_share(info, "float32") == 1.0 and io == {"float32"}:
        return "float32"
    return "other"


# ----------------------------------------------------------------------------- GraphDefs

def _parse_graph(graph_def: bytes):
    import tensorflow as tf

    parsed = tf.compat.v1.GraphDef()
    parsed.ParseFromString(bytes(graph_def))
    return parsed


def graph_summary(ctx, graph_def: bytes) -> dict:
    """What a serialized GraphDef holds, by op type (never by node name).

    ``{"parsed": bool, "error", "nodes", "ops": {type: count}, "variable_ops": [types],
    "placeholders": [{"name", "dtype", "shape"}], "functions": number of library functions,
    "function_variable_ops": variable op types used inside library functions}``.
    ``shape`` is a list with ``-1`` for an unknown dimension, or None when unknown.
    """
    try:
        parsed = _parse_graph(graph_def)
    except Exception as exc:  # noqa: BLE001
        return {"parsed": False, "error": shorten(f"{type(exc).__name__}: {exc}", 300)}
    ops: dict = {}
    placeholders = []
    for node in parsed.node:
        ops[node.op] = ops.get(node.op, 0) + 1
        if node.op == "Placeholder":
            dtype = node.attr["dtype"].type if "dtype" in node.attr else 0
            shape = None
            if "shape" in node.attr and not node.attr["shape"].shape.unknown_rank:
                shape = [int(d.size) for d in node.attr["shape"].shape.dim]
            placeholders.append({"name": node.name, "dtype": _dtype_name(dtype), "shape": shape})
    function_ops = sorted({n.op for f in parsed.library.function for n in f.node_def} & VARIABLE_OPS)
    return {
        "parsed": True, "error": None, "nodes": len(parsed.node), "ops": ops,
        "variable_ops": sorted(set(ops) & VARIABLE_OPS), "placeholders": placeholders,
        "functions": len(parsed.library.function), "function_variable_ops": function_ops,
    }


def _dtype_name(enum_value: int) -> str:
    import tensorflow as tf

    try:
        return tf.dtypes.as_dtype(enum_value).name
    except Exception:  # noqa: BLE001
        return f"dtype({enum_value})"


# Ops that reach files or Python: a learner's graph runs here, next to the code
# that computes references for the batch, and an inference graph needs none of them.
UNSAFE_OPS = {
    "ReadFile", "WriteFile", "MatchingFiles", "Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2",
    "RestoreSlice", "MergeV2Checkpoints", "ShardedFilename", "ShardedFilespec", "PyFunc",
    "PyFuncStateless", "EagerPyFunc", "WholeFileReader", "WholeFileReaderV2", "TFRecordReader",
    "TFRecordReaderV2", "FixedLengthRecordReader", "FixedLengthRecordReaderV2", "TextLineReader",
    "TextLineReaderV2", "ImmutableConst", "LoadAndRemapMatrix", "WriteAudioSummary", "WriteSummary",
    "CreateSummaryFileWriter", "DebugIdentity", "DebugIdentityV2",
}


def _import(graph_def: bytes):
    """A wrapped function holding the imported graph (names kept as they are)."""
    import tensorflow as tf

    parsed = _parse_graph(graph_def)
    used = {n.op for n in parsed.node} | {n.op for f in parsed.library.function for n in f.node_def}
    if used & UNSAFE_OPS:
        raise ValueError(f"the graph uses ops that read or write files or run Python: {sorted(used & UNSAFE_OPS)}")

    def body():
        tf.compat.v1.import_graph_def(parsed, name="")

    return tf.compat.v1.wrap_function(body, [])


def resolve_names(ctx, graph_def: bytes, names) -> dict:
    """For each tensor name, ``None`` when it names a tensor of the graph, else why not (text)."""
    try:
        wrapped = _import(graph_def)
    except Exception as exc:  # noqa: BLE001
        return {str(n): f"the graph could not be imported ({type(exc).__name__})" for n in names}
    found = {}
    for name in names:
        name = str(name)
        try:
            wrapped.graph.get_tensor_by_name(name)
            found[name] = None
        except (ValueError, KeyError, TypeError) as exc:
            found[name] = shorten((str(exc).splitlines() or [""])[0], 200)
    return found


def run_graph(ctx, graph_def: bytes, input_name: str, output_name: str, x) -> np.ndarray:
    """Import the GraphDef and evaluate ``output_name`` with ``x`` fed to ``input_name``."""
    import tensorflow as tf

    wrapped = _import(graph_def)
    graph = wrapped.graph
    function = wrapped.prune(graph.get_tensor_by_name(input_name), graph.get_tensor_by_name(output_name))
    result = function(tf.constant(np.asarray(x, dtype=np.float32)))
    return np.asarray(result, dtype=np.float32)


def graph_io(ctx, graph_def: bytes) -> dict:
    """The trusted reading of a frozen graph's interface: float placeholders in, sink tensors out.

    ``{"inputs": ["name:0", ...], "outputs": ["name:0", ...]}``; outputs are
    the first outputs of nodes no other node reads (``NoOp`` and ``Const``
    excluded).
    """
    parsed = _parse_graph(graph_def)
    consumed = set()
    for node in parsed.node:
        for source in node.input:
            consumed.add(source.lstrip("^").split(":")[0])
    inputs = [f"{n.name}:0" for n in parsed.node if n.op == "Placeholder"]
    outputs = [f"{n.name}:0" for n in parsed.node
               if n.name not in consumed and n.op not in ("NoOp", "Const", "Placeholder")]
    return {"inputs": inputs, "outputs": outputs}
