import stride, torch

torch.manual_seed(0); X = torch.randn(4096, 20); y = (X[:, :3].sum(1) > 0).long()
X_val, y_val = X[3072:], y[3072:]  # held out: the candidates are judged by their validation loss
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[:3072], y[:3072]), batch_size=64, shuffle=True)
make_model = lambda: torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
model = make_model()
found = stride.lr_find(model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), loader, torch.nn.functional.cross_entropy)

def train_fn(lr, trial):  # a fresh model at this lr (seeded by trial.seed), trained as the real run trains: 10 epochs
    torch.manual_seed(trial.seed); model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for epoch in range(1, 11):  # epochs counted from 1
        for xb, yb in loader:
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad(); loss.backward(); opt.step()
        with torch.no_grad():
            val_loss = torch.nn.functional.cross_entropy(model(X_val), y_val).item()
        trial.report(epoch, val_loss)
    return val_loss

# The range test's candidates (about 8), each trained here for 10 epochs; on 3 seeds (trial.seed), as
# fewer than 5,000 examples make a noisy validation set (seeds=1 trains each once).
result = stride.lr_suggest(train_fn, range_test=found, training={"epochs": 10})
print(result.id, result.lr, result.confidence)  # then train with result.lr; result.reasoning says why
