/// Flags of `rl2 evaluate` and `rl2 table` (underscore spellings accepted, like `rl2 train`'s).
module RL2.Cli.EvalArgs

open Argu

type EvaluateArgs =
    | [<AltCommandLine("--checkpoint_dir")>] Checkpoint_Dir of path: string
    | [<AltCommandLine("--model_name")>] Model_Name of string
    | Checkpoint of which: string
    | [<AltCommandLine("--meta_episodes")>] Meta_Episodes of int
    | Seed of int64
    | Greedy
    | Baseline of name: string
    | Variant of name: string
    | Environment of name: string
    | [<AltCommandLine("--num_states")>] Num_States of int
    | [<AltCommandLine("--num_actions")>] Num_Actions of int
    | [<AltCommandLine("--max_episode_len")>] Max_Episode_Len of int
    | [<AltCommandLine("--meta_episode_len")>] Meta_Episode_Len of int
    | Architecture of name: string
    | [<AltCommandLine("--num_features")>] Num_Features of int
    | [<AltCommandLine("--forget_bias")>] Forget_Bias of float
    | [<AltCommandLine("--num_layers")>] Num_Layers of int
    | [<AltCommandLine("--num_heads")>] Num_Heads of int
    | Attention of style: string
    | Connections of style: string
    | [<AltCommandLine("--layer_ordering")>] Layer_Ordering of order: string
    | Positions of style: string
    | Threads of int
    | Plot of path: string

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Plot _ -> "PNG of the mean return per episode of the meta-episode (default <run>/per_episode.png, or per_episode.png for baselines only)."
            | Checkpoint_Dir _ -> "checkpoint root directory (default checkpoints)."
            | Model_Name _ ->
                "run to evaluate: the newest checkpoint in <checkpoint_dir>/<model_name> (default defaults; omit with --baseline to play baselines only)."
            | Checkpoint _ -> "latest (the newest checkpoint) or best (the best evaluation during training, <run>/best) (default latest)."
            | Meta_Episodes _ -> "meta-episodes to play, all in one batch (default 1000)."
            | Seed _ -> "evaluation seed: the same seed gives every policy the same tasks (default 0)."
            | Greedy -> "play the network's most probable action instead of sampling from it."
            | Baseline _ ->
                "also play a classic baseline on the same tasks (repeatable): bandit random, gittins, ts, ots, ucb1, eps-greedy, greedy, bayes-optimal; MDP random, psrl, opsrl, ucrl2, beb, eps-greedy, greedy. NAME:VARIANT picks a variant."
            | Variant _ -> "variant of greedy and eps-greedy on MDPs: empirical (the papers') or posterior (default empirical)."
            | Environment _ -> "task distribution: bandit or tabular_mdp (default: the run's, else bandit)."
            | Num_States _ -> "states of the tabular MDP (default: the run's, else 10)."
            | Num_Actions _ -> "actions (bandit arms) (default: the run's, else 5)."
            | Max_Episode_Len _ -> "steps per episode of the tabular MDP (default: the run's, else 10)."
            | Meta_Episode_Len _ -> "steps per meta-episode (default: the run's, else 100)."
            | Architecture _ -> "the run's architecture (default: the run's, else gru)."
            | Num_Features _ -> "the run's --num_features (default: the run's, else 256)."
            | Forget_Bias _ -> "gru and lstm: the run's --forget_bias (default: the run's, else 1.0)."
            | Num_Layers _ -> "transformer: layers (default: the run's, else 9)."
            | Num_Heads _ -> "transformer: heads (default: the run's, else 2)."
            | Attention _ -> "transformer: sparse or full (default: the run's, else sparse)."
            | Connections _ -> "transformer: dense or residual (default: the run's, else dense)."
            | Layer_Ordering _ -> "transformer: fn or nf (default: the run's, else fn)."
            | Positions _ -> "transformer: absolute or relative (default: the run's, else absolute)."
            | Threads _ -> "torch intra-op threads (default 1)."

type TableArgs =
    | Environment of name: string
    | Checkpoints of spec: string list
    | [<AltCommandLine("--meta_episodes")>] Meta_Episodes of int
    | Seed of int64
    | Greedy
    | Reference of column: string
    | Output of stem: string
    | Tune
    | Threads of int

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Environment _ -> "bandit or tabular_mdp (default bandit)."
            | Checkpoints _ ->
                "trained runs to add as columns: NAME=RUN_DIR[:key=value,...]; the run's config.json or the key=value pairs (train's flag names: meta_episode_len, num_actions, architecture, num_features, ...) say which row it belongs to."
            | Meta_Episodes _ -> "meta-episodes per cell (default 1000)."
            | Seed _ -> "evaluation seed, the same tasks for every column (default 0)."
            | Greedy -> "checkpoints play their most probable action instead of sampling."
            | Reference _ -> "column the paired differences are taken against (default Gittins for bandits, PSRL for MDPs)."
            | Output _ -> "write <stem>.md, <stem>.csv and <stem>.json (default table_<environment>)."
            | Tune -> "instead of the table, rerun the hyperparameter search on the tuning seed and print it."
            | Threads _ -> "torch intra-op threads (default 1)."
