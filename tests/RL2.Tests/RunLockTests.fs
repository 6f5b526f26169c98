/// One training process per run directory: the lock against other processes (here util-linux's
/// flock(1), a process that is not .NET), shared within one, and the trainer refusing a held run.
module RL2.Tests.RunLockTests

open System
open System.Diagnostics
open System.IO
open System.Threading
open Expecto
open RL2.Envs
open RL2.Dist
open RL2.Train

let private lockFile (run: string) = Path.Combine(run, RunLock.fileName)

/// flock(1) holding `run`'s lock for `seconds` (its child shell does not, so killing flock frees it),
/// returned once it holds it ("held" on stdout).
let private holdElsewhere (run: string) (seconds: float) =
    Directory.CreateDirectory run |> ignore
    let psi = ProcessStartInfo("flock", RedirectStandardOutput = true)
    for a in [ "-n"; "-o"; lockFile run; "-c"; $"echo held; sleep {seconds}" ] do
        psi.ArgumentList.Add a
    let p = Process.Start psi
    Expect.equal (p.StandardOutput.ReadLine()) "held" "flock(1) took the lock"
    p

/// Whether another process can take `run`'s lock at this moment.
let private freeElsewhere (run: string) =
    use p = Process.Start("flock", [| "-n"; lockFile run; "true" |])
    p.WaitForExit()
    p.ExitCode = 0

[<Tests>]
let tests =
    testSequenced
    <| testList "run lock" [
        test "held against another process while acquired, free again once released" {
            let run = Path.Combine(TrainingTests.tempDir (), "run")
            let held = RunLock.acquire run
            Expect.isFalse (freeElsewhere run) "another process cannot take it"
            held.Dispose()
            Expect.isTrue (freeElsewhere run) "released"
        }

        test "shared within a process until its last holder releases it" {
            let run = Path.Combine(TrainingTests.tempDir (), "run")
            let first = RunLock.acquire run
            let second = RunLock.acquireWithin TimeSpan.Zero run
            first.Dispose()
            first.Dispose()
            Expect.isFalse (freeElsewhere run) "the second holder still holds it, however often the first releases"
            second.Dispose()
            Expect.isTrue (freeElsewhere run) "released by the last holder"
        }

        test "another process's hold is refused with RunInUse, naming the run" {
            let run = Path.Combine(TrainingTests.tempDir (), "run")
            use other = holdElsewhere run 30.0
            try
                (RunLock.acquireWithin (TimeSpan.FromSeconds 0.3) run).Dispose()
                failtest "acquired a run another process holds"
            with RunLock.RunInUse r ->
                Expect.equal r run "names the run"
            other.Kill true
            other.WaitForExit()
        }

        test "a hold released within the wait is taken after it, not before" {
            let run = Path.Combine(TrainingTests.tempDir (), "run")
            use other = holdElsewhere run 1.0
            let clock = Stopwatch.StartNew()
            using (RunLock.acquireWithin (TimeSpan.FromSeconds 10.0) run) ignore
            Expect.isTrue other.HasExited "taken only once the other process had let go"
            Expect.isLessThan clock.Elapsed.TotalSeconds 10.0 "within the wait"
        }

        test "Trainer.train refuses a run another process holds, before writing anything to it" {
            let run = Path.Combine(TrainingTests.tempDir (), "run")
            use other = holdElsewhere run 30.0
            let s = { TrainingTests.settings (Bandit.distribution 3) 6 with NumFeatures = 16; MaxIterations = 1; MetaEpisodesPerIteration = 30; RunDir = Some run }
            Expect.throwsT<RunLock.RunInUse> (fun () -> Trainer.train Communicator.single s TrainingTests.quiet |> ignore) "refused"
            Expect.equal (Directory.GetFileSystemEntries run |> Array.map Path.GetFileName) [| RunLock.fileName |] "nothing but the lock file"
            other.Kill true
            other.WaitForExit()
            Trainer.train Communicator.single s TrainingTests.quiet |> ignore
            Expect.equal (Checkpoint.latest run) (Some 1) "trains once the other process is gone"
        }
    ]
