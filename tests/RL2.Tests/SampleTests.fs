/// The C# sample, run as a user would: it trains, saves, loads and plays through the public API only.
module RL2.Tests.SampleTests

open System.Diagnostics
open System.IO
open Expecto

let sample =
    let rel = Path.GetRelativePath(Path.Combine(CliTests.repositoryRoot, "tests", "RL2.Tests"), System.AppContext.BaseDirectory)
    Path.Combine(CliTests.repositoryRoot, "samples", "CSharp", rel, "rl2-csharp-sample")

[<Tests>]
let tests =
    test "the C# sample trains, reloads its checkpoint and plays one meta-episode" {
        let dir = Path.Combine(TrainingTests.tempDir (), "run")
        let psi = ProcessStartInfo(sample, dir, RedirectStandardOutput = true, RedirectStandardError = true)
        use p = Process.Start psi
        let out = p.StandardOutput.ReadToEndAsync()
        let err = p.StandardError.ReadToEnd()
        p.WaitForExit()
        printfn "C# sample output:\n%s" out.Result
        Expect.equal p.ExitCode 0 err
        let lines = out.Result.Split('\n')
        Expect.equal (lines |> Array.filter (fun l -> l.StartsWith "iteration") |> Array.length) 12 "one line per iteration"
        Expect.equal (lines |> Array.filter (fun l -> l.TrimStart().StartsWith "pull") |> Array.length) 10 "ten pulls"
        Expect.isTrue (File.Exists(Path.Combine(dir, "metrics.jsonl"))) "the run was saved"
        Expect.equal (RL2.Train.Legs.read dir |> List.map (fun l -> l.FromIteration, l.Processes)) [ 0, 1 ] "with the machine that trained it"
    }
