import stride

study = stride.Client().create_study(
    "torch-sgd-agent", metric="train_loss", pruner="median", max_trials=8,
    space={"lr": {"type": "float", "low": 1e-4, "high": 1, "log": True},
           "momentum": {"type": "float", "low": 0, "high": 0.99}},
    executor={"kind": "runner", "max_parallel": 2},  # trials wait for `stride agent`
)
print(study.id)
