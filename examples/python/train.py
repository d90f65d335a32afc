import stride, torch

trial = stride.current_trial(defaults={"lr": 0.05, "momentum": 0.9})  # run alone: these params
device = "cuda" if torch.cuda.is_available() else "cpu"  # with --gpus, the agent sets CUDA_VISIBLE_DEVICES
torch.manual_seed(0); X = torch.randn(1024, 20).to(device); y = (X[:, :3].sum(1) > 0).long()
model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2)).to(device)
opt = torch.optim.SGD(model.parameters(), lr=trial.params["lr"], momentum=trial.params["momentum"])
for epoch in range(20):
    loss = torch.nn.functional.cross_entropy(model(X), y)
    opt.zero_grad(); loss.backward(); opt.step()
    trial.report(epoch, loss.item())  # under the agent, which stops the script when the pruner says so
trial.tell(loss.item())
print(f"trial {trial.number}: lr={trial.params['lr']:.3g} momentum={trial.params['momentum']:.3g} loss={loss.item():.4f}")
