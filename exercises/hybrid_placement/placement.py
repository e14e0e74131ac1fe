# %% [markdown]
# # Where to train, where to serve
#
# Building Hybrid ML Systems: decide, for one workload, where the model is
# trained (cloud, on-prem, federated), where it runs (cloud, on-prem, on the
# device, quantized on the device, or nowhere) and whether predictions are
# precomputed (static) or computed on demand (dynamic).
#
# Read README.md first: it states the rules 1 to 5 this code must follow.
# Fill in the TODOs, then run the public tests:
# `hml check hybrid_placement placement.py`.

# %%
CONNECTIVITY = ("always", "intermittent", "none")
DATA_RESIDENCY = ("cloud_ok", "on_prem_only", "on_device_only")
NUMBERS = ("latency_budget_ms", "model_size_mb", "device_memory_mb", "distinct_inputs")

LATENCY_LIMIT_MS = 100       # rule 2: a budget *under* this requires the device
STATIC_LIMIT = 1_000_000     # rule 5: at most this many distinct inputs can be precomputed


# %% [markdown]
# ## Validate the workload
#
# Missing keys, unknown values and negative numbers raise `ValueError`
# naming the key. Keys outside the contract are ignored.

# %%
def validate(workload: dict) -> None:
    # TODO: raise ValueError naming the key for a missing key, a value of
    # connectivity / data_residency outside CONNECTIVITY / DATA_RESIDENCY,
    # or a negative number in one of NUMBERS.
    raise NotImplementedError("validate the workload: see README, section 'Invalid workloads'")


# %% [markdown]
# ## Place the workload
#
# Apply rule 1 (training), rules 2 to 4 (inference) and rule 5 (serving),
# and collect a short reason for each choice.

# %%
def place(workload: dict) -> dict:
    validate(workload)
    reasons = []

    # TODO rule 1: training follows the data.
    training = None

    # TODO rules 2-4: does the model have to run on the device? If so, does it
    # fit a quarter of device memory, as is or quantized? If not, cloud or on-prem?
    inference = None

    # TODO rule 5: static only for a server-side model with few distinct inputs.
    serving = None

    if training is None or inference is None or serving is None:
        raise NotImplementedError("apply the placement rules: see README, section 'The contract'")
    return {"training": training, "inference": inference, "serving": serving, "reasons": reasons}
