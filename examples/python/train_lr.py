import stride, torch

trial = stride.current_trial(defaults={"lr": 0.1, "epochs": 10, "seed": 0})  # run alone: these params
epochs = trial.horizon["epochs"]  # the real run's length, or a shorter run the search asks for
torch.manual_seed(0); X = torch.randn(4096, 20); y = (X[:, :3].sum(1) > 0).long()
X_val, y_val = X[3072:], y[3072:]  # held out: the runs are judged by their validation loss
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[:3072], y[:3072]), batch_size=64, shuffle=True)
torch.manual_seed(trial.params["seed"]); model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"], momentum=0.9)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))  # the whole schedule in `epochs`
for epoch in range(1, epochs + 1):  # epochs counted from 1
    for xb, yb in loader:
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    with torch.no_grad():
        val_loss = torch.nn.functional.cross_entropy(model(X_val), y_val).item()
    trial.report(epoch, val_loss)  # validation loss after each epoch, from 1
trial.tell(val_loss)
print(f"lr={trial.params['lr']:.3g} epochs={epochs} seed={trial.params['seed']} val_loss={val_loss:.4f}")
