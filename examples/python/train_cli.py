import argparse, json, torch
p = argparse.ArgumentParser(); p.add_argument("--lr", type=float); p.add_argument("--momentum", type=float); a = p.parse_args()
torch.manual_seed(0); X = torch.randn(1024, 20); y = (X[:, :3].sum(1) > 0).long()
model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
for epoch in range(20):
    loss = torch.nn.functional.cross_entropy(model(X), y)
    opt.zero_grad(); loss.backward(); opt.step()
    print("stride:", json.dumps({"step": epoch, "value": loss.item()}), flush=True)
print("stride:", json.dumps({"value": loss.item()}), flush=True)
