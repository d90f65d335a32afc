import stride, torch

client = stride.Client()  # $STRIDE_URL and $STRIDE_API_KEY (defaults: a local npm start and its dev key)
study = client.create_study(  # no sampler: "auto" (multi-objective TPE for a study this size)
    "mlp-size", directions=["minimize", "minimize"], metrics=["val_loss", "parameters"], max_trials=24,
    space={"lr": {"type": "float", "low": 1e-3, "high": 1, "log": True},
           "width": {"type": "int", "low": 2, "high": 512, "log": True}},
)
torch.manual_seed(0); X = torch.randn(1536, 20); y = (X[:, :3].sum(1) + X[:, 3] * X[:, 4] > 0).long()

def objective(trial):
    torch.manual_seed(0)
    width = trial.params["width"]
    model = torch.nn.Sequential(torch.nn.Linear(20, width), torch.nn.ReLU(), torch.nn.Linear(width, 2))
    opt = torch.optim.Adam(model.parameters(), lr=trial.params["lr"])
    for epoch in range(30):
        loss = torch.nn.functional.cross_entropy(model(X[:1024]), y[:1024])
        opt.zero_grad(); loss.backward(); opt.step()
    size = sum(p.numel() for p in model.parameters())
    trial.set_constraints([size - 8_000])  # a memory budget: feasible when every constraint is <= 0
    with torch.no_grad():
        val_loss = torch.nn.functional.cross_entropy(model(X[1024:]), y[1024:]).item()
    return val_loss, size  # one value per direction

study.optimize(objective, n_trials=24)
print(study.id)
for t in study.best_trials:  # the Pareto front of the feasible trials, by number
    print(t.number, t.values, t.params, t.sampler)
