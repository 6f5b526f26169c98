/// Command-line arguments: the reference's `train.py` flags (underscore spellings accepted too),
/// plus `--seed` and `--threads`; validation into trainer settings with one-line errors.
module RL2.Cli.Args

open System.IO
open Argu
open RL2.Envs
open RL2.Nn
open RL2.Rl
open RL2.Train

type TrainArgs =
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
    | [<AltCommandLine("--model_name")>] Model_Name of string
    | [<AltCommandLine("--checkpoint_dir")>] Checkpoint_Dir of path: string
    | [<AltCommandLine("--max_pol_iters")>] Max_Pol_Iters of int
    | [<AltCommandLine("--meta_episodes_per_policy_update")>] Meta_Episodes_Per_Policy_Update of int
    | [<AltCommandLine("--meta_episodes_per_learner_batch")>] Meta_Episodes_Per_Learner_Batch of int
    | [<AltCommandLine("--meta_episodes_per_pass")>] Meta_Episodes_Per_Pass of int
    | [<AltCommandLine("--ppo_opt_epochs")>] Ppo_Opt_Epochs of int
    | [<AltCommandLine("--ppo_clip_param")>] Ppo_Clip_Param of float
    | [<AltCommandLine("--ppo_ent_coef")>] Ppo_Ent_Coef of float
    | [<AltCommandLine("--discount_gamma")>] Discount_Gamma of float
    | [<AltCommandLine("--gae_lambda")>] Gae_Lambda of float
    | [<AltCommandLine("--standardize_advs")>] Standardize_Advs of int
    | [<AltCommandLine("--value_targets")>] Value_Targets of targets: string
    | [<AltCommandLine("--adam_lr")>] Adam_Lr of float
    | [<AltCommandLine("--adam_lr_anneal_from")>] Adam_Lr_Anneal_From of iteration: int
    | [<AltCommandLine("--adam_eps")>] Adam_Eps of float
    | [<AltCommandLine("--adam_wd")>] Adam_Wd of float
    | Seed of int64
    | Threads of int
    | [<AltCommandLine("--concurrent_networks")>] Concurrent_Networks of int
    | [<AltCommandLine("--eval_every")>] Eval_Every of iterations: int
    | [<AltCommandLine("--eval_meta_episodes")>] Eval_Meta_Episodes of int

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Environment _ -> $"""task distribution: {String.concat ", " Catalog.names} (default bandit)."""
            | Num_States _ -> "states of the tabular MDP; ignored for bandits (default 10)."
            | Num_Actions _ -> "actions (bandit arms) (default 5)."
            | Max_Episode_Len _ -> "timesteps before an episode auto-resets; ignored for bandits (default 10)."
            | Meta_Episode_Len _ -> "timesteps per meta-episode (default 100)."
            | Architecture _ ->
                $"""memory architecture: {Architecture.table |> List.map _.Name |> String.concat ", "} (default gru)."""
            | Num_Features _ -> "hidden width of the architecture (default 256; the papers' SNAIL runs used 32)."
            | Forget_Bias _ ->
                "gru and lstm: constant subtracted from the GRU's update gate and added to the LSTM's forget gate before the sigmoid; larger keeps more of the state per step at the start (default 1.0)."
            | Num_Layers _ -> "transformer: layers (default 9)."
            | Num_Heads _ -> "transformer: attention heads (default 2)."
            | Attention _ -> "transformer: sparse (row, column, previous-row patterns in turn) or full (default sparse)."
            | Connections _ -> "transformer: dense (concatenate sublayer outputs) or residual (default dense)."
            | Layer_Ordering _ -> "transformer: fn (layer norm after each sublayer) or nf (before) (default fn)."
            | Positions _ -> "transformer: absolute (sinusoids on the input) or relative (Transformer-XL) (default absolute)."
            | Model_Name _ -> "run name: checkpoints and metrics go to <checkpoint_dir>/<model_name> (default defaults)."
            | Checkpoint_Dir _ -> "checkpoint root directory (default checkpoints)."
            | Max_Pol_Iters _ -> "policy iterations to train to, counting resumed ones (default 12000)."
            | Meta_Episodes_Per_Policy_Update _ ->
                "meta-episodes collected per iteration per process; -1 = 240000 / (processes * meta_episode_len) (default -1)."
            | Meta_Episodes_Per_Learner_Batch _ -> "meta-episodes per PPO minibatch (default 60)."
            | Meta_Episodes_Per_Pass _ ->
                "at most this many meta-episodes of a minibatch per forward and backward pass, gradients accumulated: the same update "
                + "(default 6000 / meta_episode_len: minibatches of 480 meta-episodes of 100 steps updated 1.7 times faster on 2 vCPUs in passes of 60)."
            | Ppo_Opt_Epochs _ -> "PPO epochs per iteration (default 8)."
            | Ppo_Clip_Param _ -> "PPO ratio clip epsilon (default 0.10)."
            | Ppo_Ent_Coef _ -> "entropy bonus coefficient (default 0.01)."
            | Discount_Gamma _ -> "discount factor (default 0.99)."
            | Gae_Lambda _ -> "GAE lambda (default 0.3)."
            | Standardize_Advs _ -> "1 to standardise advantages each iteration, 0 not to (default 0)."
            | Value_Targets _ ->
                "with --standardize_advs 1, what the value net regresses on: reference (V + standardised A, as the reference) or lambda_return (V + A before standardisation) (default reference)."
            | Adam_Lr _ -> "AdamW learning rate (default 2e-4)."
            | Adam_Lr_Anneal_From _ ->
                "after iteration N the learning rate falls linearly, by --adam_lr / (--max_pol_iters - N) per iteration, to one such step at the last (default: constant, as the reference)."
            | Adam_Eps _ -> "AdamW epsilon (default 1e-5)."
            | Adam_Wd _ -> "AdamW weight decay on weight matrices (default 0.01)."
            | Seed _ -> "random seed: tasks, actions, weights and minibatches all derive from it (default 0)."
            | Threads _ -> "torch intra-op threads (default 1: measured fastest on small 2-vCPU machines)."
            | Concurrent_Networks _ ->
                "1 to run the policy and value networks' update passes at once on two threads (same result), 0 one after the other (default 1)."
            | Eval_Every _ ->
                "every N iterations, play the policy on a fixed held-out task set (evaluation seed 1) and keep the best-scoring checkpoint in <run>/best; 0 = never (default 0)."
            | Eval_Meta_Episodes _ -> "meta-episodes of each evaluation (default 1000)."

type BenchArgs =
    | Suite of name: string
    | Workloads of names: string list
    | Iterations of int
    | Warmup of int
    | [<AltCommandLine("--meta_episodes")>] Meta_Episodes of int
    | Out of dir: string
    | [<AltCommandLine("--meta_episode_len")>] Meta_Episode_Len of int
    | Batch of int
    | [<AltCommandLine("--num_features")>] Num_Features of int
    | Threads of int
    | [<AltCommandLine("--concurrent_networks")>] Concurrent_Networks of int

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Suite _ ->
                "iteration: seconds per policy iteration by phase, update GFLOP/s and peak RSS on fixed seeded workloads; "
                + "cache: rollout steps/s with step-mode caches against recomputing the prefix (default iteration)."
            | Workloads _ -> "iteration suite: the workloads to run, by name (default all eight; an unknown name lists them)."
            | Iterations _ -> "iteration suite: measured iterations per workload (default 3)."
            | Warmup _ -> "iteration suite: unmeasured iterations first (default 1)."
            | Meta_Episodes _ -> "iteration suite: meta-episodes of 100 steps per iteration (default 60)."
            | Out _ -> "iteration suite: directory for iteration.json and iteration.md (default bench)."
            | Meta_Episode_Len _ -> "cache suite: context length T (default 100)."
            | Batch _ -> "cache suite: meta-episodes stepped together (default 60)."
            | Num_Features _ -> "cache suite: feature width (default 32 for SNAIL, 256 otherwise)."
            | Threads _ -> "torch intra-op threads (default 1)."
            | Concurrent_Networks _ -> "iteration suite: 1 to update the policy and value networks at once on two threads, 0 in turn (default 1)."

type PlotArgs =
    | [<MainCommand; Mandatory>] Runs of run_dir: string list
    | Out of path: string
    | Title of string
    | X of axis: string
    | Level of label: string * value: float

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Runs _ -> "run directories (<checkpoint_dir>/<model_name>) whose metrics.jsonl to overlay."
            | Out _ -> "the PNG to write (default learning_curves.png)."
            | Title _ -> "the plot's title."
            | X _ -> "x axis: steps (environment steps) or seconds (training wall clock) (default steps)."
            | Level _ -> "a dashed horizontal reference line, e.g. --level Bayes-optimal 6.66 (repeatable)."

type ReproduceArgs =
    | [<MainCommand>] Recipe_Name of recipe: string
    | Iterations of int
    | Minutes of float
    | [<AltCommandLine("--checkpoint_dir")>] Checkpoint_Dir of path: string
    | [<AltCommandLine("--results_dir")>] Results_Dir of path: string
    | Page

    interface IArgParserTemplate with
        member a.Usage =
            match a with
            | Recipe_Name _ -> "the recipe to run (resuming where it stopped); without one, list the recipes."
            | Iterations _ -> "train at most this many more iterations, then stop (rerun to continue)."
            | Minutes _ -> "stop after the iteration during which this many minutes have passed (rerun to continue)."
            | Checkpoint_Dir _ -> "checkpoint root: the recipe trains in <checkpoint_dir>/recipes/<recipe> (default checkpoints)."
            | Results_Dir _ -> "where results go: <results_dir>/<recipe>.{json,md,png}, the page <results_dir>.md, and an unfinished recipe's newest and best checkpoints, carried in <results_dir>/unfinished/<recipe> to resume from on another machine (default docs/results)."
            | Page -> "only regenerate <results_dir>.md from the result files."

type Command =
    | [<SubCommand; CliPrefix(CliPrefix.None)>] Train of ParseResults<TrainArgs>
    | [<SubCommand; CliPrefix(CliPrefix.None)>] Bench of ParseResults<BenchArgs>
    | [<SubCommand; CliPrefix(CliPrefix.None)>] Plot of ParseResults<PlotArgs>
    | [<SubCommand; CliPrefix(CliPrefix.None)>] Evaluate of ParseResults<EvalArgs.EvaluateArgs>
    | [<SubCommand; CliPrefix(CliPrefix.None)>] Table of ParseResults<EvalArgs.TableArgs>
    | [<SubCommand; CliPrefix(CliPrefix.None)>] Reproduce of ParseResults<ReproduceArgs>

    interface IArgParserTemplate with
        member c.Usage =
            match c with
            | Train _ -> "train an RL² agent with PPO over a task distribution (resumes automatically)."
            | Bench _ -> "benchmarks: seconds per policy iteration by phase (JSON and Markdown), or step-mode cache speed-ups."
            | Plot _ -> "overlay the learning curves of several runs in one PNG."
            | Evaluate _ -> "mean meta-episode return (95% CI) of a trained policy and/or baselines on the same seeded tasks."
            | Table _ -> "the papers' tables: every baseline on every setup beside the published numbers (Markdown, CSV, JSON)."
            | Reproduce _ -> "run a recipe reproducing a published RL² number: train, then evaluate peak and final against the baselines."

/// A user mistake, reported in one line (exit code 2).
exception UsageError of string

let private fail msg = raise (UsageError msg)

let private check cond msg = if not cond then fail msg

/// A run name or directory must stay where the user pointed: no parent hops, no absolute name.
let private checkName (flag: string) (name: string) =
    check (name <> "" && not (Path.IsPathRooted name)) $"--{flag} must be a relative name, got '{name}'"
    check (name.Split([| '/'; '\\' |]) |> Array.forall (fun p -> p <> ".." && p <> ".")) $"--{flag} must not contain '.' or '..' parts, got '{name}'"
    check (name.IndexOfAny(Path.GetInvalidFileNameChars() |> Array.filter (fun c -> c <> '/')) < 0) $"--{flag} contains characters not allowed in a file name: '{name}'"

/// The value a flag's text names among `choices`, or a usage error listing them.
let choose flag value (choices: (string * 'T) list) =
    match List.tryFind (fst >> (=) value) choices with
    | Some(_, v) -> v
    | None -> fail $"""--{flag} must be one of {choices |> List.map fst |> String.concat ", "}, got '{value}'"""

/// The Transformer's options from the text of its flags (shared by `train`, `evaluate` and `table`).
let transformerOptions layers heads attention connections ordering positions : Transformer.Options =
    { Layers = layers
      Heads = heads
      Sparse = choose "attention" attention [ "sparse", true; "full", false ]
      Connections = choose "connections" connections [ "dense", Transformer.Dense; "residual", Transformer.Residual ]
      Ordering = choose "layer_ordering" ordering [ "fn", Transformer.FunctionThenNorm; "nf", Transformer.NormThenFunction ]
      Relative = choose "positions" positions [ "absolute", false; "relative", true ] }

/// Flags a checkpoint depends on: resuming with other values is refused. The process count is not
/// among them: another count resumes correctly, though no longer bit-for-bit (it is logged).
let fixedFlags =
    set [ "environment"; "num_states"; "num_actions"; "max_episode_len"; "meta_episode_len"; "architecture"; "num_features"
          "forget_bias"; "num_layers"; "num_heads"; "attention"; "connections"; "layer_ordering"; "positions"; "seed" ]

/// A saved configuration with the entries of flags added since it was written: a GRU or LSTM run saved
/// before `--forget_bias` existed used the reference's 1.0.
let completeConfig (saved: RunConfig.Config) =
    match Map.tryFind "architecture" saved with
    | Some a when Architecture.gated.Contains a && not (saved.ContainsKey "forget_bias") ->
        saved.Add("forget_bias", string (float Architecture.referenceForgetBias))
    | _ -> saved

/// `--forget_bias`, checked finite.
let checkForgetBias (value: float) =
    check (System.Double.IsFinite value) $"--forget_bias must be a finite number, got {value}"

/// The task distribution `--environment` names, or a usage error listing the choices.
let taskOf (environment: string) (settings: Catalog.EnvSettings) =
    match Catalog.tryFind environment with
    | Some make -> make settings
    | None -> fail $"""--environment must be one of {String.concat ", " Catalog.names}, got '{environment}'"""

/// An output directory (a run's, a benchmark's) must be a directory we can write.
let checkWritable (dir: string) =
    if File.Exists dir then fail $"{dir} is a file, not a directory"
    try
        Directory.CreateDirectory dir |> ignore
        let probe = Path.Combine(dir, ".write-test")
        File.WriteAllText(probe, "")
        File.Delete probe
    with
    | :? IOException
    | :? System.UnauthorizedAccessException as e -> fail $"cannot write to {dir}: {e.Message}"

type TrainRequest =
    { Settings: Trainer.Settings
      /// Periodic evaluation (`--eval_every`), if any.
      Evaluation: Trainer.Evaluation option
      /// Every flag that shapes the run, as saved beside its checkpoints.
      Config: RunConfig.Config
      Threads: int
      /// Every flag's value after defaults, for the run summary.
      Summary: (string * string) list }

let toTrainRequest (processes: int) (r: ParseResults<TrainArgs>) =
    let environment = r.GetResult(Environment, defaultValue = "bandit")
    let numStates = r.GetResult(Num_States, defaultValue = 10)
    let numActions = r.GetResult(Num_Actions, defaultValue = 5)
    let maxEpisodeLen = r.GetResult(Max_Episode_Len, defaultValue = 10)
    let metaEpisodeLen = r.GetResult(TrainArgs.Meta_Episode_Len, defaultValue = 100)
    let architecture = r.GetResult(Architecture, defaultValue = "gru")
    let numFeatures = r.GetResult(TrainArgs.Num_Features, defaultValue = 256)
    let forgetBias = r.GetResult(Forget_Bias, defaultValue = float Architecture.referenceForgetBias)
    let modelName = r.GetResult(Model_Name, defaultValue = "defaults")
    let checkpointDir = r.GetResult(TrainArgs.Checkpoint_Dir, defaultValue = "checkpoints")
    let maxIters = r.GetResult(Max_Pol_Iters, defaultValue = 12000)
    let perUpdate = r.GetResult(Meta_Episodes_Per_Policy_Update, defaultValue = -1)
    let batch = r.GetResult(Meta_Episodes_Per_Learner_Batch, defaultValue = 60)
    let perPass = r.GetResult(Meta_Episodes_Per_Pass, defaultValue = Trainer.passSize metaEpisodeLen)
    let epochs = r.GetResult(Ppo_Opt_Epochs, defaultValue = 8)
    let clip = r.GetResult(Ppo_Clip_Param, defaultValue = 0.10)
    let ent = r.GetResult(Ppo_Ent_Coef, defaultValue = 0.01)
    let gamma = r.GetResult(Discount_Gamma, defaultValue = 0.99)
    let lambda = r.GetResult(Gae_Lambda, defaultValue = 0.3)
    let standardize = r.GetResult(Standardize_Advs, defaultValue = 0)
    let valueTargetsText = r.GetResult(Value_Targets, defaultValue = "reference")
    let valueTargets =
        choose "value_targets" valueTargetsText [ "reference", Trainer.StandardisedAdvantage; "lambda_return", Trainer.LambdaReturn ]
    let lr = r.GetResult(Adam_Lr, defaultValue = 2e-4)
    let annealFrom = r.TryGetResult Adam_Lr_Anneal_From
    let eps = r.GetResult(Adam_Eps, defaultValue = 1e-5)
    let wd = r.GetResult(Adam_Wd, defaultValue = 0.01)
    let seed = r.GetResult(Seed, defaultValue = 0L)
    let threads = r.GetResult(TrainArgs.Threads, defaultValue = 1)
    let concurrent = r.GetResult(TrainArgs.Concurrent_Networks, defaultValue = 1)
    let evalEvery = r.GetResult(Eval_Every, defaultValue = 0)
    let evalCount = r.GetResult(Eval_Meta_Episodes, defaultValue = 1000)
    let task = taskOf environment { NumStates = numStates; NumActions = numActions; MaxEpisodeLen = maxEpisodeLen }
    let transformer =
        transformerOptions
            (r.GetResult(Num_Layers, defaultValue = Transformer.reference.Layers))
            (r.GetResult(Num_Heads, defaultValue = Transformer.reference.Heads))
            (r.GetResult(Attention, defaultValue = "sparse"))
            (r.GetResult(Connections, defaultValue = "dense"))
            (r.GetResult(Layer_Ordering, defaultValue = "fn"))
            (r.GetResult(Positions, defaultValue = "absolute"))
    let arch =
        match Architecture.tryFind architecture (Architecture.standard (float32 forgetBias) transformer) with
        | Some a -> a
        | None -> fail $"""--architecture must be one of {Architecture.table |> List.map _.Name |> String.concat ", "}, got '{architecture}'"""
    checkForgetBias forgetBias
    check (not (r.Contains Forget_Bias) || Architecture.gated.Contains arch.Name) $"--forget_bias applies to gru and lstm only, not {arch.Name}"
    check (numStates >= 1) $"--num_states must be at least 1, got {numStates}"
    check (numActions >= 2) $"--num_actions must be at least 2, got {numActions}"
    check (maxEpisodeLen >= 1) $"--max_episode_len must be at least 1, got {maxEpisodeLen}"
    check (metaEpisodeLen >= 2) $"--meta_episode_len must be at least 2, got {metaEpisodeLen}"
    check (numFeatures >= 1) $"--num_features must be at least 1, got {numFeatures}"
    check (transformer.Layers >= 1) $"--num_layers must be at least 1, got {transformer.Layers}"
    check (transformer.Heads >= 1) $"--num_heads must be at least 1, got {transformer.Heads}"
    if arch.Name = "transformer" then
        check (numFeatures % 2 = 0 && numFeatures % transformer.Heads = 0) $"--num_features must be even and divisible by --num_heads {transformer.Heads} for the transformer, got {numFeatures}"
    check (maxIters >= 0) $"--max_pol_iters must not be negative, got {maxIters}"
    check (perUpdate = -1 || perUpdate >= 1) $"--meta_episodes_per_policy_update must be -1 or at least 1, got {perUpdate}"
    check (batch >= 1) $"--meta_episodes_per_learner_batch must be at least 1, got {batch}"
    check (perPass >= 1) $"--meta_episodes_per_pass must be at least 1, got {perPass}"
    check (epochs >= 1) $"--ppo_opt_epochs must be at least 1, got {epochs}"
    check (clip > 0.0 && clip < 1.0) $"--ppo_clip_param must be in (0, 1), got {clip}"
    check (ent >= 0.0) $"--ppo_ent_coef must not be negative, got {ent}"
    check (gamma >= 0.0 && gamma <= 1.0) $"--discount_gamma must be in [0, 1], got {gamma}"
    check (lambda >= 0.0 && lambda <= 1.0) $"--gae_lambda must be in [0, 1], got {lambda}"
    check (standardize = 0 || standardize = 1) $"--standardize_advs must be 0 or 1, got {standardize}"
    check (valueTargets = Trainer.StandardisedAdvantage || standardize = 1) "--value_targets lambda_return differs from the reference only with --standardize_advs 1"
    check (lr > 0.0) $"--adam_lr must be positive, got {lr}"
    annealFrom
    |> Option.iter (fun a -> check (a >= 0 && a < maxIters) $"--adam_lr_anneal_from must be at least 0 and below --max_pol_iters {maxIters}, got {a}")
    check (eps > 0.0) $"--adam_eps must be positive, got {eps}"
    check (wd >= 0.0) $"--adam_wd must not be negative, got {wd}"
    check (threads >= 1) $"--threads must be at least 1, got {threads}"
    check (concurrent = 0 || concurrent = 1) $"--concurrent_networks must be 0 or 1, got {concurrent}"
    check (evalEvery >= 0) $"--eval_every must not be negative, got {evalEvery}"
    check (evalCount >= 2) $"--eval_meta_episodes must be at least 2, got {evalCount}"
    checkName "model_name" modelName
    check (checkpointDir <> "") "--checkpoint_dir must not be empty"
    check (checkpointDir.Split([| '/'; '\\' |]) |> Array.forall ((<>) "..")) $"--checkpoint_dir must not contain '..' parts, got '{checkpointDir}'"
    let perProcess = if perUpdate = -1 then 240000 / (processes * metaEpisodeLen) else perUpdate
    check (perProcess >= 1) $"meta_episode_len {metaEpisodeLen} leaves no meta-episodes per iteration; set --meta_episodes_per_policy_update"
    let settings: Trainer.Settings =
        { Task = task
          Architecture = arch
          NumFeatures = numFeatures
          MetaEpisodeLen = metaEpisodeLen
          MetaEpisodesPerIteration = perProcess
          MinibatchSize = batch
          PassSize = perPass
          Epochs = epochs
          Ppo = { ClipParam = float32 clip; EntropyCoef = float32 ent }
          Gamma = float32 gamma
          Lambda = float32 lambda
          StandardizeAdvantages = (standardize = 1)
          ValueTargets = valueTargets
          LearningRate = lr
          AnnealFrom = annealFrom
          AdamEps = eps
          WeightDecay = wd
          MaxIterations = maxIters
          Seed = seed
          ConcurrentNetworks = (concurrent = 1)
          RunDir = Some(Path.Combine(checkpointDir, modelName)) }
    let run = Path.Combine(checkpointDir, modelName)
    checkWritable run
    { Settings = settings
      Evaluation = if evalEvery > 0 then Some(RL2.Eval.Evaluate.periodic task metaEpisodeLen evalEvery evalCount) else None
      Config =
        Map.ofList
            [ "environment", environment
              "num_states", string numStates
              "num_actions", string numActions
              "max_episode_len", string maxEpisodeLen
              "meta_episode_len", string metaEpisodeLen
              "architecture", architecture
              "num_features", string numFeatures
              if Architecture.gated.Contains arch.Name then
                  "forget_bias", string forgetBias
              if arch.Name = "transformer" then
                  "num_layers", string transformer.Layers
                  "num_heads", string transformer.Heads
                  "attention", (if transformer.Sparse then "sparse" else "full")
                  "connections", (if transformer.Connections = Transformer.Dense then "dense" else "residual")
                  "layer_ordering", (if transformer.Ordering = Transformer.FunctionThenNorm then "fn" else "nf")
                  "positions", (if transformer.Relative then "relative" else "absolute")
              "max_pol_iters", string maxIters
              "meta_episodes_per_policy_update", string perProcess
              "meta_episodes_per_learner_batch", string batch
              "ppo_opt_epochs", string epochs
              "ppo_clip_param", string clip
              "ppo_ent_coef", string ent
              "discount_gamma", string gamma
              "gae_lambda", string lambda
              "standardize_advs", string standardize
              if valueTargets <> Trainer.StandardisedAdvantage then
                  "value_targets", valueTargetsText
              "adam_lr", string lr
              match annealFrom with
              | Some a -> "adam_lr_anneal_from", string a
              | None -> ()
              "adam_eps", string eps
              "adam_wd", string wd
              "seed", string seed
              "processes", string processes
              if evalEvery > 0 then
                  "eval_every", string evalEvery
                  "eval_meta_episodes", string evalCount ]
      Threads = threads
      Summary =
        [ "environment", environment
          "architecture", $"{arch.Description}, {numFeatures} features"
          "meta-episode", $"{metaEpisodeLen} steps, episodes of {task.EpisodeLength}"
          "per iteration",
          (let passes = if perPass < batch then $" in passes of {perPass}" else ""
           $"{perProcess} meta-episodes x {processes} process(es), minibatch {batch}{passes}, {epochs} epochs")
          "optimiser",
          (let schedule = annealFrom |> Option.map (fun a -> $", annealed linearly from iteration {a} to {maxIters}") |> Option.defaultValue ""
           $"AdamW lr {lr}{schedule}, eps {eps}, wd {wd}")
          "PPO",
          (let targets = if valueTargets = Trainer.StandardisedAdvantage then "" else $", value targets {valueTargetsText}"
           $"clip {clip}, entropy {ent}, gamma {gamma}, lambda {lambda}, standardise {standardize = 1}{targets}")
          "seed / threads", $"""{seed} / {threads}{if concurrent = 1 then ", policy and value updated concurrently" else ""}"""
          "evaluation",
          (if evalEvery > 0 then $"every {evalEvery} iterations, {evalCount} held-out meta-episodes (seed {RL2.Eval.Evaluate.heldOutSeed}); best in <run>/best" else "none")
          "run directory", Path.Combine(checkpointDir, modelName) ] }
