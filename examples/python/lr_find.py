import stride, torch

torch.manual_seed(0); X = torch.randn(4096, 20); y = (X[:, :3].sum(1) > 0).long()
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=64, shuffle=True)
model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

# 100 steps from lr 1e-7 to 10 on your device; the model and the optimizer are restored afterwards.
result = stride.lr_find(model, opt, loader, torch.nn.functional.cross_entropy)
print(result.id, result.suggestion.lr, result.max_stable_lr, result.suggestion.confidence)
for group in opt.param_groups:
    group["lr"] = result.suggestion.lr  # then train as usual; result.plot() draws the curve (matplotlib)
