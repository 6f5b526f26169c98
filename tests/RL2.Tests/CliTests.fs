/// The `rl2` executable as a user meets it: flags, errors, kill and resume.
module RL2.Tests.CliTests

open System
open System.Diagnostics
open System.IO
open System.Threading
open Expecto

/// The rl2 apphost built beside this test assembly's configuration (the test project references the CLI).
let rl2 =
    let here = AppContext.BaseDirectory
    let root = Path.GetFullPath(Path.Combine(here, "../../../../../.."))
    let rel = Path.GetRelativePath(Path.Combine(root, "tests", "RL2.Tests"), here)
    Path.Combine(root, "src", "RL2.Cli", rel, "rl2")

let start (args: string) =
    let psi = ProcessStartInfo(rl2, args, RedirectStandardOutput = true, RedirectStandardError = true)
    Process.Start psi

let run (args: string) =
    use p = start args
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEnd()
    p.WaitForExit()
    p.ExitCode, out.Result, err

let small dir =
    $"train --checkpoint_dir {dir} --model_name run --meta_episode_len 6 --num_features 8 --meta_episodes_per_policy_update 30 --ppo_opt_epochs 1"

[<Tests>]
let tests =
    testSequenced
    <| testList "rl2 cli" [
        test "train --help documents every reference flag" {
            let code, out, _ = run "train --help"
            Expect.equal code 0 "exit code"
            for flag in [ "--environment"; "--num-states"; "--num-actions"; "--max-episode-len"; "--meta-episode-len"; "--architecture"; "--num-features"
                          "--model-name"; "--checkpoint-dir"; "--max-pol-iters"; "--meta-episodes-per-policy-update"; "--meta-episodes-per-learner-batch"
                          "--ppo-opt-epochs"; "--ppo-clip-param"; "--ppo-ent-coef"; "--discount-gamma"; "--gae-lambda"; "--standardize-advs"
                          "--adam-lr"; "--adam-eps"; "--adam-wd"; "--seed"; "--threads" ] do
                Expect.stringContains out flag $"help mentions {flag}"
        }

        test "user mistakes give one line on stderr and exit code 2" {
            for args in [ "train --environment maze"; "train --num_actions 0"; "train --gae_lambda 1.5"; "train --model_name ../escape"
                          "train --meta_episode_len"; "train --architecture rnn"; "train --unknown_flag 3" ] do
                let code, _, err = run args
                Expect.equal code 2 $"exit code of '{args}'"
                Expect.equal (err.Trim().Split('\n').Length) 1 $"one line for '{args}': {err}"
                Expect.stringStarts err "rl2: " $"a message for '{args}'"
                Expect.isFalse (err.Contains "Exception") $"no stack trace for '{args}': {err}"
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
            let trainerDir = Path.Combine(dir, "run", "trainer")
            use p = start $"{small dir} --max_pol_iters 1000"
            let deadline = DateTime.UtcNow.AddMinutes 2.0
            let saved () = Directory.Exists trainerDir && Directory.GetFiles(trainerDir, "*.ckpt").Length >= 3
            while not (saved ()) && DateTime.UtcNow < deadline do
                Thread.Sleep 50
            p.Kill true
            p.WaitForExit()
            Expect.isTrue (saved ()) "checkpoints were written before the kill"
            let code, out, err = run $"{small dir} --max_pol_iters 12"
            Expect.equal code 0 $"resumed run succeeds: {err}"
            Expect.stringContains out "resuming from the checkpoint of iteration" "says it resumes"
            let iterations =
                File.ReadAllLines(Path.Combine(dir, "run", "metrics.jsonl"))
                |> Array.map (fun l -> Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("iteration").GetInt32())
            Expect.equal iterations [| 1..12 |] "every iteration logged once, in order"
        }
    ]
