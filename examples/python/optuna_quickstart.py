import math

import stride as optuna  # was: import optuna


def objective(trial):
    classifier = trial.suggest_categorical("classifier", ["SVC", "RandomForest"])
    if classifier == "SVC":
        svc_c = trial.suggest_float("svc_c", 1e-10, 1e10, log=True)
        error = 0.1 + (math.log10(svc_c) - 2) ** 2 / 400
    else:
        max_depth = trial.suggest_int("rf_max_depth", 2, 32, log=True)
        error = 0.12 + abs(math.log2(max_depth) - 3) / 20
    trial.set_user_attr("classifier", classifier)
    return error


study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=1))
study.optimize(objective, n_trials=30)
print(study.id, study.best_trial.params, study.best_value)
print(study.trials_dataframe()[["number", "value", "params_classifier", "state"]].tail(3))
