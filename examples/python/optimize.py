import stride, torch

client = stride.Client()  # $STRIDE_URL and $STRIDE_API_KEY (defaults: a local npm start and its dev key)
study = client.create_study(
    "mlp-sgd", metric="train_loss", pruner="median", max_trials=20, sampler={"name": "tpe", "seed": 1},
    space={"lr": {"type": "float", "low": 1e-4, "high": 1, "log": True},
           "momentum": {"type": "float", "low": 0, "high": 0.99}},
)
torch.manual_seed(0); X = torch.randn(1024, 20); y = (X[:, :3].sum(1) > 0).long()

def objective(trial):  # the space is declared with the study: read trial.params
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
    opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"], momentum=trial.params["momentum"])
    for epoch in range(20):
        loss = torch.nn.functional.cross_entropy(model(X), y)
        opt.zero_grad(); loss.backward(); opt.step()
        if trial.report(epoch, loss.item()):  # True: the median pruner says stop
            raise stride.TrialPruned()
    return loss.item()

study.optimize(objective, n_trials=20, n_jobs=2)
print(study.id, study.best_params, study.best_value)
