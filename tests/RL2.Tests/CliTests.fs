/// The `rl2` executable as a user meets it: flags, errors, kill and resume.
module RL2.Tests.CliTests

open System
open System.Diagnostics
open System.IO
open System.Threading
open Expecto

module Posix =
    [<Runtime.InteropServices.DllImport("libc", SetLastError = true)>]
    extern int kill(int pid, int signal)

    let sigterm = 15

/// The repository, found from this test assembly's output directory (tests/RL2.Tests/bin/<config>/<tfm>/<rid>).
let repositoryRoot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../.."))

/// The rl2 apphost built beside this test assembly's configuration (the test project references the CLI).
let rl2 =
    let rel = Path.GetRelativePath(Path.Combine(repositoryRoot, "tests", "RL2.Tests"), AppContext.BaseDirectory)
    Path.Combine(repositoryRoot, "src", "RL2.Cli", rel, "rl2")

/// rl2 started in the directory `cwd`.
let startIn (cwd: string) (args: string) =
    let psi = ProcessStartInfo(rl2, args, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd)
    Process.Start psi

let start (args: string) = startIn Environment.CurrentDirectory args

/// rl2 run to its end in the directory `cwd`: exit code, stdout, stderr.
let runIn (cwd: string) (args: string) =
    use p = startIn cwd args
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEnd()
    p.WaitForExit()
    p.ExitCode, out.Result, err

let run (args: string) = runIn Environment.CurrentDirectory args

/// Waits (at most 2 minutes) until the run `<dir>/run` has checkpointed at least `n` iterations.
let waitForCheckpoints (dir: string) (n: int) =
    let trainerDir = Path.Combine(dir, "run", "trainer")
    let saved () = Directory.Exists trainerDir && Directory.GetFiles(trainerDir, "*.ckpt").Length >= n
    let deadline = DateTime.UtcNow.AddMinutes 2.0
    while not (saved ()) && DateTime.UtcNow < deadline do
        Thread.Sleep 50
    Expect.isTrue (saved ()) $"{n} checkpoints written"

/// The iterations `<dir>/run/metrics.jsonl` logs, in its order.
let loggedIterations (dir: string) =
    RL2.Train.Metrics.read (Path.Combine(dir, "run")) |> Array.map _.Iteration

let small dir =
    $"train --checkpoint_dir {dir} --model_name run --meta_episode_len 6 --num_features 8 --meta_episodes_per_policy_update 30 --ppo_opt_epochs 1"

[<Tests>]
let tests =
    testSequenced
    <| testList "rl2 cli" [
        test "train --help documents every reference flag" {
            let code, out, _ = run "train --help"
            Expect.equal code 0 "exit code"
            for flag in [ "--environment"; "--num-states"; "--num-actions"; "--max-episode-len"; "--meta-episode-len"; "--architecture"; "--num-features"; "--forget-bias"
                          "--model-name"; "--checkpoint-dir"; "--max-pol-iters"; "--meta-episodes-per-policy-update"; "--meta-episodes-per-learner-batch"
                          "--ppo-opt-epochs"; "--ppo-clip-param"; "--ppo-ent-coef"; "--discount-gamma"; "--gae-lambda"; "--standardize-advs"
                          "--adam-lr"; "--adam-eps"; "--adam-wd"; "--seed"; "--threads" ] do
                Expect.stringContains out flag $"help mentions {flag}"
        }

        test "underscore and dashed spellings are the same flag" {
            let dirA, dirB = TrainingTests.tempDir (), TrainingTests.tempDir ()
            let code1, _, _ = run $"{small dirA} --max_pol_iters 1 --seed 3"
            let code2, _, _ = run $"{(small dirB).Replace('_', '-')} --max-pol-iters 1 --seed 3"
            Expect.equal (code1, code2) (0, 0) "both runs succeed"
            let line d = File.ReadAllLines(Path.Combine(d, "run", "metrics.jsonl"))[0]
            let noTimes (l: string) = l.Substring(0, l.IndexOf "\"seconds\"")
            Expect.equal (noTimes (line dirB)) (noTimes (line dirA)) "same first iteration"
        }

        test "a killed run resumes from its latest checkpoint and the iteration count continues" {
            let dir = TrainingTests.tempDir ()
            use p = start $"{small dir} --max_pol_iters 1000"
            waitForCheckpoints dir 3
            p.Kill true
            p.WaitForExit()
            let code, out, err = run $"{small dir} --max_pol_iters 12"
            Expect.equal code 0 $"resumed run succeeds: {err}"
            Expect.stringContains out "resuming from the checkpoint of iteration" "says it resumes"
            Expect.equal (loggedIterations dir) [| 1..12 |] "every iteration logged once, in order"
        }

        test "SIGTERM stops a run cleanly after the iteration under way, checkpointed" {
            let dir = TrainingTests.tempDir ()
            use p = start $"{small dir} --max_pol_iters 100000"
            let out = p.StandardOutput.ReadToEndAsync()
            let err = p.StandardError.ReadToEndAsync()
            waitForCheckpoints dir 2
            Posix.kill (p.Id, Posix.sigterm) |> ignore
            Expect.isTrue (p.WaitForExit 60_000) "the run ends"
            Expect.equal p.ExitCode 0 $"a requested stop is not a failure: {err.Result}"
            Expect.stringContains out.Result "stopping after this iteration" "says what it does"
            let iterations = loggedIterations dir
            let last = Array.last iterations
            Expect.equal iterations [| 1..last |] "every iteration logged once, in order"
            Expect.stringContains out.Result $"done: iteration {last}," "the last logged iteration is the one it stopped after"
            Expect.equal (RL2.Train.Checkpoint.latest (Path.Combine(dir, "run"))) (Some last) "and it is checkpointed"
        }

        test "a second rl2 on a run being trained is refused in one line and leaves the first run alone" {
            let dir = TrainingTests.tempDir ()
            let config = Path.Combine(dir, "run", "config.json")
            use first = start $"{small dir} --max_pol_iters 100000"
            // Drained, so that the first run never blocks on a full pipe.
            first.StandardOutput.ReadToEndAsync() |> ignore
            waitForCheckpoints dir 2
            let saved = File.ReadAllText config
            let code, _, err = run $"{small dir} --max_pol_iters 100000 --adam_lr 1e-3"
            Expect.equal code 2 $"refused: {err}"
            let runDir = Path.Combine(dir, "run")
            Expect.equal (err.Trim()) $"rl2: {runDir} is being trained by another process; wait for it to stop, or train under another --model_name" "one line naming the run"
            Expect.equal (File.ReadAllText config) saved "the first run's flags are not overwritten"
            Posix.kill (first.Id, Posix.sigterm) |> ignore
            Expect.isTrue (first.WaitForExit 60_000) "the first run ends"
            let iterations = loggedIterations dir
            Expect.equal iterations [| 1 .. Array.last iterations |] "the first run's iterations, each logged once"
            let code, out, err = run $"{small dir} --max_pol_iters {Array.last iterations + 1}"
            Expect.equal code 0 $"free once the first run has stopped: {err}"
            Expect.stringContains out $"resuming from the checkpoint of iteration {Array.last iterations}" "and it resumes"
        }
    ]

/// A run directory prepared by `setup`, then `args` run against it: (name, setup, args, message fragment).
let badInputs: (string * (string -> unit) * (string -> string) * string) list =
    let none (_: string) = ()
    let flag args = fun (_: string) -> args
    let trained (dir: string) =
        let code, _, err = run $"{small dir} --max_pol_iters 2"
        if code <> 0 then failwith err
    [ "unknown environment", none, flag "train --environment maze", "--environment must be one of"
      "unknown architecture", none, flag "train --architecture rnn", "--architecture must be one of"
      "unknown flag", none, flag "train --unknown_flag 3", "unrecognized argument"
      "flag without value", none, flag "train --meta_episode_len", "must be followed by <int>"
      "non-numeric int", none, flag "train --num_actions five", "--num"
      "non-numeric float", none, flag "train --adam_lr fast", "--adam"
      "no subcommand", none, flag "", "subcommand"
      "unknown subcommand", none, flag "fly", "unrecognized argument"
      "one action", none, flag "train --num_actions 1", "--num_actions must be at least 2"
      "no states", none, flag "train --num_states 0", "--num_states must be at least 1"
      "zero episode length", none, flag "train --max_episode_len 0", "--max_episode_len must be at least 1"
      "one-step meta-episode", none, flag "train --meta_episode_len 1", "--meta_episode_len must be at least 2"
      "zero features", none, flag "train --num_features 0", "--num_features must be at least 1"
      "negative iterations", none, flag "train --max_pol_iters -1", "--max_pol_iters must not be negative"
      "zero meta-episodes per update", none, flag "train --meta_episodes_per_policy_update 0", "--meta_episodes_per_policy_update must be -1 or at least 1"
      "zero minibatch", none, flag "train --meta_episodes_per_learner_batch 0", "--meta_episodes_per_learner_batch must be at least 1"
      "zero meta-episodes per pass", none, flag "train --meta_episodes_per_pass 0", "--meta_episodes_per_pass must be at least 1"
      "zero epochs", none, flag "train --ppo_opt_epochs 0", "--ppo_opt_epochs must be at least 1"
      "clip of 0", none, flag "train --ppo_clip_param 0", "--ppo_clip_param must be in (0, 1)"
      "clip above 1", none, flag "train --ppo_clip_param 1.5", "--ppo_clip_param must be in (0, 1)"
      "negative entropy coefficient", none, flag "train --ppo_ent_coef -0.1", "--ppo_ent_coef must not be negative"
      "gamma above 1", none, flag "train --discount_gamma 1.01", "--discount_gamma must be in [0, 1]"
      "lambda above 1", none, flag "train --gae_lambda 1.5", "--gae_lambda must be in [0, 1]"
      "standardize 2", none, flag "train --standardize_advs 2", "--standardize_advs must be 0 or 1"
      "zero learning rate", none, flag "train --adam_lr 0", "--adam_lr must be positive"
      "annealing from the last iteration", none, flag "train --max_pol_iters 5 --adam_lr_anneal_from 5", "--adam_lr_anneal_from must be at least 0 and below --max_pol_iters 5"
      "negative anneal start", none, flag "train --adam_lr_anneal_from -1", "--adam_lr_anneal_from must be at least 0"
      "negative eps", none, flag "train --adam_eps -1e-5", "--adam_eps must be positive"
      "negative weight decay", none, flag "train --adam_wd -0.01", "--adam_wd must not be negative"
      "zero threads", none, flag "train --threads 0", "--threads must be at least 1"
      "context too long for the 240000-step formula", none, flag "train --meta_episode_len 300000", "leaves no meta-episodes per iteration"
      "odd transformer width", none, flag "train --architecture transformer --num_features 33", "--num_features must be even"
      "transformer heads not dividing width", none, flag "train --architecture transformer --num_features 32 --num_heads 3", "divisible by --num_heads 3"
      "zero transformer layers", none, flag "train --architecture transformer --num_layers 0", "--num_layers must be at least 1"
      "unknown attention", none, flag "train --architecture transformer --attention local", "--attention must be one of"
      "unknown connections", none, flag "train --connections skip", "--connections must be one of"
      "unknown layer ordering", none, flag "train --layer_ordering nfn", "--layer_ordering must be one of"
      "unknown positions", none, flag "train --positions rotary", "--positions must be one of"
      "model name escaping upwards", none, flag "train --model_name ../escape", "--model_name must not contain"
      "absolute model name", none, flag "train --model_name /tmp/run", "--model_name must be a relative name"
      "empty model name", none, flag "train --model_name \"\"", "--model_name must be a relative name"
      "checkpoint dir escaping upwards", none, (fun d -> $"train --checkpoint_dir {d}/../elsewhere"), "--checkpoint_dir must not contain '..'"
      "run directory is a file",
      (fun d -> Directory.CreateDirectory d |> ignore; File.WriteAllText(Path.Combine(d, "run"), "")),
      (fun d -> $"{small d}"),
      "is a file"
      "unwritable checkpoint dir", none, flag "train --checkpoint_dir /proc/rl2-cannot-write", "cannot write to"
      "damaged config.json",
      (fun d -> trained d; File.WriteAllText(Path.Combine(d, "run", "config.json"), "{ not json")),
      (fun d -> $"{small d} --max_pol_iters 3"),
      "is not a valid run configuration"
      "resume with another width", trained, (fun d -> $"{small d} --max_pol_iters 3 --num_features 16"), "--num_features was 8, now 16"
      "resume with another environment",
      trained,
      (fun d -> $"{small d} --max_pol_iters 3 --environment tabular_mdp"),
      "--environment was bandit, now tabular_mdp"
      "resume with another seed", trained, (fun d -> $"{small d} --max_pol_iters 3 --seed 9"), "--seed was 0, now 9"
      "forget bias of an architecture without gates", none, flag "train --architecture snail --forget_bias 2", "--forget_bias applies to gru and lstm only, not snail"
      "non-finite forget bias", none, flag "train --forget_bias nan", "--forget_bias must be a finite number"
      "resume with another forget bias", trained, (fun d -> $"{small d} --max_pol_iters 3 --forget_bias 2"), "--forget_bias was 1, now 2"
      "evaluation with another forget bias",
      trained,
      (fun d -> $"evaluate --checkpoint_dir {d} --model_name run --forget_bias 2"),
      "was trained with --forget_bias 1, not 2"
      "unknown value targets", none, flag "train --standardize_advs 1 --value_targets returns", "--value_targets must be one of reference, lambda_return, got 'returns'"
      "λ-return targets without standardisation", none, flag "train --value_targets lambda_return", "differs from the reference only with --standardize_advs 1"
      "negative evaluation interval", none, flag "train --eval_every -1", "--eval_every must not be negative"
      "one-episode evaluation", none, flag "train --eval_every 5 --eval_meta_episodes 1", "--eval_meta_episodes must be at least 2"
      "best checkpoint of a run trained without evaluations",
      trained,
      (fun d -> $"evaluate --checkpoint_dir {d} --model_name run --checkpoint best"),
      "has no best checkpoint"
      "unknown checkpoint choice", trained, (fun d -> $"evaluate --checkpoint_dir {d} --model_name run --checkpoint peak"), "--checkpoint must be one of latest, best"
      "unknown recipe", none, flag "reproduce bandit-n10-k3-gru", "unknown recipe 'bandit-n10-k3-gru'; the recipes are bandit-n10-k5-gru"
      "zero recipe iterations", none, flag "reproduce bandit-n10-k5-gru --iterations 0", "--iterations must be at least 1"
      "negative recipe minutes", none, flag "reproduce bandit-n10-k5-gru --minutes -1", "--minutes must not be negative"
      "plot of a directory without metrics", none, (fun d -> $"plot {d}"), "has no metrics.jsonl"
      "plot without runs", none, flag "plot", "missing argument"
      "every checkpoint damaged",
      (fun d ->
          trained d
          for f in Directory.GetFiles(Path.Combine(d, "run", "trainer")) do File.WriteAllText(f, "x")),
      (fun d -> $"{small d} --max_pol_iters 3"),
      "none of the 2 checkpoints is intact" ]

[<Tests>]
let robustness =
    testSequenced
    <| testList "rl2 cli robustness" [
        testList "bad inputs give one line on stderr and exit code 2" [
            for name, setup, args, fragment in badInputs ->
                test name {
                    let dir = TrainingTests.tempDir ()
                    setup dir
                    let code, _, err = run (args dir)
                    Expect.equal code 2 $"exit code; stderr: {err}"
                    Expect.equal (err.Trim().Split('\n').Length) 1 $"one line: {err}"
                    Expect.stringStarts err "rl2: " "prefixed"
                    Expect.stringContains err fragment "the message says what is wrong"
                    Expect.isFalse (err.Contains "Exception") $"no stack trace: {err}"
                }
        ]

        test "a compatible change on resume is allowed and logged" {
            let dir = TrainingTests.tempDir ()
            run $"{small dir} --max_pol_iters 1" |> ignore
            let code, out, err = run $"{small dir} --max_pol_iters 2 --adam_lr 1e-3"
            Expect.equal code 0 err
            Expect.stringContains out "--adam_lr was 0.0002, now 0.001" "logged"
            Expect.stringContains out "--max_pol_iters was 1, now 2" "logged"
            let code, out, err = run $"{small dir} --max_pol_iters 4 --adam_lr 1e-3 --adam_lr_anneal_from 2"
            Expect.equal code 0 err
            Expect.stringContains out "--adam_lr_anneal_from was (unset), now 2" "annealing may start on a resume"
            let rates = RL2.Train.Metrics.read (Path.Combine(dir, "run")) |> Array.map (fun m -> m.Iteration, m.LearningRate)
            Expect.equal rates [| 1, 2e-4; 2, 1e-3; 3, 1e-3; 4, 5e-4 |] "the schedule of the flags in force at each iteration"
            let code, out, err = run $"{small dir} --max_pol_iters 5 --adam_lr 1e-3 --adam_lr_anneal_from 2 --standardize_advs 1 --value_targets lambda_return"
            Expect.equal code 0 err
            Expect.stringContains out "--value_targets was (unset), now lambda_return" "the value targets may change on a resume"
            Expect.stringContains out "value targets lambda_return" "and the summary says so"
        }

        test "the forget bias is saved with a run, and a run saved before the flag existed resumes and evaluates as 1.0" {
            let dir = TrainingTests.tempDir ()
            let config = Path.Combine(dir, "run", "config.json")
            let code, out, err = run $"{small dir} --max_pol_iters 1 --forget_bias 2.5"
            Expect.equal code 0 err
            Expect.stringContains out "forget bias 2.5" "the summary names it"
            Expect.stringContains (File.ReadAllText config) "\"forget_bias\": \"2.5\"" "saved"
            let code, _, err = run $"evaluate --checkpoint_dir {dir} --model_name run --forget_bias 1"
            Expect.equal code 2 "an evaluation with another bias is refused"
            Expect.stringContains err "was trained with --forget_bias 2.5, not 1" "naming both"
            let older = File.ReadAllLines config |> Array.filter (fun l -> not (l.Contains "forget_bias"))
            File.WriteAllLines(config, older)
            let code, out, err = run $"{small dir} --max_pol_iters 2"
            Expect.equal code 0 $"resumes: {err}"
            Expect.isFalse (out.Contains "--forget_bias was") $"no change reported: {out}"
            let code, _, err = run $"evaluate --checkpoint_dir {dir} --model_name run --forget_bias 1 --meta_episodes 10"
            Expect.equal code 0 $"evaluates as 1.0: {err}"
        }

        test "SIGKILL at random moments, restarts resume from an intact checkpoint and finish the count" {
            let dir = TrainingTests.tempDir ()
            // Wider nets make checkpoint writes long enough for some kills to land inside one.
            let args = $"{small dir} --num_features 64 --max_pol_iters 40"
            let rng = Random 2026
            for _ in 1..6 do
                use p = start args
                Thread.Sleep(rng.Next(500, 2500))
                p.Kill true
                p.WaitForExit()
            let code, out, err = run args
            Expect.equal code 0 $"the final run finishes: {err}"
            Expect.equal (loggedIterations dir) [| 1..40 |] "every iteration logged once, in order"
            Expect.equal (RL2.Train.Checkpoint.latest (Path.Combine(dir, "run"))) (Some 40) "final checkpoint"
        }
    ]
