import stride, torch

torch.manual_seed(0); X = torch.randn(4096, 20); y = (X[:, :3].sum(1) > 0).long()
X_val, y_val = X[3072:], y[3072:]  # held out: the runs are judged by their validation loss
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[:3072], y[:3072]), batch_size=64, shuffle=True)
make_model = lambda: torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
model = make_model()
found = stride.lr_find(model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), loader, torch.nn.functional.cross_entropy)

def train_fn(lr, trial):  # a fresh model at peak lr, seeded by trial.seed, its whole schedule in trial.horizon
    epochs = trial.horizon["epochs"]  # the real run's 10, or fewer when the search asks for a shorter run
    torch.manual_seed(trial.seed); model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))  # compressed into `epochs`
    for epoch in range(1, epochs + 1):  # epochs counted from 1
        for xb, yb in loader:
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        with torch.no_grad():
            val_loss = torch.nn.functional.cross_entropy(model(X_val), y_val).item()
        trial.report(epoch, val_loss)
    return val_loss

# At most 3 full runs of compute (range test included): short runs first, then the best at full length.
result = stride.lr_suggest(train_fn, range_test=found, training={"epochs": 10}, schedule="cosine", budget=3)
print(result.id, result.lr, result.confidence, result.compute["runs"])  # result.reasoning says why
