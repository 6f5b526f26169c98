/// Data-parallel training over the real Open MPI. `ranks` are the tests every process of
/// `mpiexec -n 2 RL2.Tests` runs (Main picks them when started by mpiexec); `tests`, in the regular
/// suite, start those jobs, and `rl2 train` under mpiexec, as subprocesses.
module RL2.Tests.MpiTests

open System
open System.Diagnostics
open System.IO
open System.Text
open Expecto
open TorchSharp
open RL2
open RL2.Envs
open RL2.Rl
open RL2.Dist
open RL2.Train
open RL2.Tests.Helpers

/// The job's communicator, initialised on first use; Main finalises it.
let world = lazy (Mpi.init ())

/// A test every rank runs, in the same order. A failure on one rank aborts the job, which the launching
/// test reports, instead of leaving the other rank waiting in a collective.
let private onRanks (name: string) (body: Communicator -> unit) =
    testCase name
    <| fun () ->
        let comm = world.Force()
        try
            body comm
        with e ->
            eprintfn "rank %d failed '%s': %O" comm.Rank name e
            Mpi.abort 1

/// A fresh directory that every rank sees (the ranks share this machine's file system).
let private sharedDir (comm: Communicator) =
    let mine = if comm.Rank = 0 then TrainingTests.tempDir () else ""
    Encoding.UTF8.GetString(comm.Broadcast(Encoding.UTF8.GetBytes mine))

let private checkpointed (l: Trainer.Learner) : Checkpoint.Learner =
    { Policy = l.Policy.Params
      PolicyOptimizer = l.PolicyOptimizer
      Value = l.Value.Params
      ValueOptimizer = l.ValueOptimizer }

let private small =
    { TrainingTests.settings (Bandit.distribution 3) 6 with
        NumFeatures = 16
        MetaEpisodesPerIteration = 30
        MinibatchSize = 10
        Epochs = 2 }

let ranks =
    testSequenced
    <| testList "mpi ranks" [
        onRanks "the binding: rank, size, allreduce, broadcast, allgather" <| fun comm ->
            Expect.equal comm.Size 2 "two processes"
            Expect.equal comm.Rank (int (Environment.GetEnvironmentVariable "OMPI_COMM_WORLD_RANK")) "rank as mpiexec numbered it"
            let sums = [| float32 (comm.Rank + 1); 10.0f * float32 (comm.Rank + 1) |]
            comm.AllreduceSum sums
            Expect.equal sums [| 3.0f; 30.0f |] "1 + 2, 10 + 20, on every rank"
            let payload = Array.init 100_000 byte
            Expect.equal (comm.Broadcast(if comm.Rank = 0 then payload else [||])) payload "rank 0's bytes everywhere"
            Expect.equal (comm.Broadcast [||]) [||] "an empty broadcast"
            Expect.equal (comm.Allgather [| byte comm.Rank; 7uy |]) [| 0uy; 7uy; 1uy; 7uy |] "bytes in rank order"
            Expect.equal (Communicator.gather comm [| float32 comm.Rank + 0.5f |]) [| 0.5f; 1.5f |] "floats in rank order"

        onRanks "one PPO update on two ranks, each with half of a batch, equals one process on the whole batch" <| fun comm ->
            // A batch of 60 meta-episodes, the same on both ranks; one epoch of one minibatch, the whole
            // local batch: one optimiser step per network.
            let s = { small with MinibatchSize = 60; Epochs = 1; LearningRate = 1e-3 }
            let update comm s l b = Trainer.update comm s (gen 6) l b (Trainer.credit comm s b) |> ignore
            let whole = Trainer.createLearner s
            let batch = Rollout.collect (gen 5) s.Task whole.Policy whole.Value 60 s.MetaEpisodeLen
            update Communicator.single s whole batch
            use rows = torch.arange(30L * int64 comm.Rank, 30L * int64 (comm.Rank + 1), dtype = ScalarType.Int64)
            let half = Rollout.select rows batch
            let halves = Trainer.createLearner s
            update comm { s with MinibatchSize = 30 } halves half
            for i, (a, b) in Array.indexed (Array.zip (learnerParameters halves) (learnerParameters whole)) do
                expectClose 1e-5f a b $"parameter {i}"
                // AdamW's step hardly depends on the gradients' scale; the gradients it was given do.
                expectClose 1e-6f a.grad b.grad $"averaged gradient of parameter {i}"
            // Without averaging, a rank's half alone would move the parameters elsewhere: the test can fail.
            let alone = Trainer.createLearner s
            update Communicator.single { s with MinibatchSize = 30 } alone half
            let gap = Array.zip (learnerParameters alone) (learnerParameters whole) |> Array.map (fun (a, b) -> maxAbsDiff a b) |> Array.max
            Expect.isGreaterThan gap 1e-4f "a half batch alone gives other parameters"

        onRanks "after several iterations every rank holds bit-identical parameters and optimiser state" <| fun comm ->
            let s = { small with MaxIterations = 3; StandardizeAdvantages = true; RunDir = Some(sharedDir comm) }
            let learner = Trainer.createLearner s
            let last = Trainer.trainLearner comm s learner TrainingTests.quiet |> Option.get
            let mine = Checkpoint.toBytes (checkpointed learner) None
            Expect.isTrue (comm.Broadcast mine = mine) $"rank {comm.Rank}'s networks and AdamW states equal rank 0's"
            let saved = Trainer.createLearner s
            let state = Checkpoint.tryLoadLatest s.RunDir.Value ignore (checkpointed saved) |> Option.get
            Expect.isTrue (Checkpoint.toBytes (checkpointed saved) None = mine) "rank 0's last checkpoint holds the same state"
            Expect.equal state.Generators.Length 2 "a generator state per rank"
            Expect.notEqual state.Generators[0] state.Generators[1] "the ranks drew different experience"
            Expect.equal state.Returns.Length (3 * 2 * 30) "the return window holds both ranks' meta-episodes"
            expectFloat 1e-5f (float32 last.MeanReturn) (Array.average state.Returns) "mean return over the window"
            // The advantage mean is the global one: each rank's own experience has another.
            let stats = [| last.MeanReturn; last.PolicyLoss; last.ValueLoss; last.Entropy; last.ClipFrac; last.AdvantageMean.Value |] |> Array.map float32
            Expect.equal (Communicator.gather comm stats) (Array.append stats stats) "the same statistics on both ranks"

        onRanks "a resumed two-process run continues exactly where an uninterrupted one would be" <| fun comm ->
            let s = { small with MaxIterations = 4 }
            let dirA, dirB = sharedDir comm, sharedDir comm
            Trainer.train comm { s with RunDir = Some dirA } TrainingTests.quiet |> ignore
            Trainer.train comm { s with MaxIterations = 2; RunDir = Some dirB } TrainingTests.quiet |> ignore
            Trainer.train comm { s with RunDir = Some dirB } TrainingTests.quiet |> ignore
            if comm.Rank = 0 then
                let strip (m: Metrics.Iteration) = { m with Seconds = 0.0; StepsPerSecond = 0.0; RolloutSeconds = 0.0; UpdateSeconds = 0.0 }
                let a, b = Metrics.read dirA |> Array.map strip, Metrics.read dirB |> Array.map strip
                Expect.equal (b |> Array.map _.Iteration) [| 1; 2; 3; 4 |] "iterations continue after the resume"
                Expect.equal b a "identical metrics with and without the interruption"

        onRanks "evaluations on process 0 and a time limit leave two-process training as it is without them" <| fun comm ->
            let s = { small with MaxIterations = 3 }
            let dirA, dirB = sharedDir comm, sharedDir comm
            Trainer.train comm { s with RunDir = Some dirA } TrainingTests.quiet |> ignore
            let evaluating: Trainer.Options =
                { Trainer.Options.none with
                    Evaluation = Some(RL2.Eval.Evaluate.periodic s.Task s.MetaEpisodeLen 1 50)
                    TimeLimit = Some TimeSpan.Zero }
            // A zero time limit stops every rank after the first iteration; the resume goes to the end.
            let first = Trainer.trainWith comm { s with RunDir = Some dirB } evaluating (Trainer.createLearner s) TrainingTests.quiet
            Expect.equal (first |> Option.map _.Iteration) (Some 1) $"rank {comm.Rank} stopped after iteration 1"
            Trainer.trainWith comm { s with RunDir = Some dirB } { evaluating with TimeLimit = None } (Trainer.createLearner s) TrainingTests.quiet |> ignore
            if comm.Rank = 0 then
                let strip (m: Metrics.Iteration) =
                    { m with Seconds = 0.0; StepsPerSecond = 0.0; RolloutSeconds = 0.0; UpdateSeconds = 0.0; EvalMean = None; EvalHalfWidth = None; EvalSeconds = None }
                let a, b = Metrics.read dirA, Metrics.read dirB
                Expect.equal (b |> Array.map strip) (a |> Array.map strip) "identical training metrics"
                Expect.isTrue (b |> Array.forall _.EvalMean.IsSome) "evaluated at every iteration"
                Expect.isSome (Checkpoint.tryBest dirB) "a best checkpoint"
    ]

let private onPath (name: string) =
    (Environment.GetEnvironmentVariable "PATH").Split(':') |> Array.exists (fun d -> File.Exists(Path.Combine(d, name)))

type private Job =
    { Process: Process
      Out: Threading.Tasks.Task<string>
      Err: Threading.Tasks.Task<string> }

/// Starts `mpiexec <args>`, with what a 2-core machine and root need: more processes than cores, and
/// Open MPI's explicit consent to run as root (harmless otherwise). Its output is read from the start.
let private mpiexec (args: string) =
    let psi = ProcessStartInfo("mpiexec", "--oversubscribe " + args, RedirectStandardOutput = true, RedirectStandardError = true)
    psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] <- "1"
    psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] <- "1"
    let p = Process.Start psi
    { Process = p
      Out = p.StandardOutput.ReadToEndAsync()
      Err = p.StandardError.ReadToEndAsync() }

/// Waits for the job at most `limit`: exit code, stdout, stderr. A job still running is killed and the
/// test fails. (Under mpiexec a process's stderr may arrive on stdout: check both.)
let private finish (limit: TimeSpan) (job: Job) =
    use p = job.Process
    if not (p.WaitForExit limit) then
        p.Kill true
        p.WaitForExit()
        failtestf "still running after %O\nstdout:\n%s\nstderr:\n%s" limit job.Out.Result job.Err.Result
    p.WaitForExit()
    p.ExitCode, job.Out.Result, job.Err.Result

let private count (text: string) (part: string) = (text.Split part).Length - 1

/// Pid of the process mpiexec started as `rank`.
let private rankPid (mpiexecPid: int) (rank: int) =
    Directory.GetDirectories "/proc"
    |> Array.choose (fun d -> match Int32.TryParse(Path.GetFileName d) with | true, pid -> Some pid | _ -> None)
    |> Array.find (fun pid ->
        try
            // /proc/<pid>/stat: "pid (name) state ppid …"
            let stat = File.ReadAllText $"/proc/{pid}/stat"
            let parent = stat.Substring(stat.LastIndexOf ')' + 2).Split(' ')[1]
            parent = string mpiexecPid
            && File.ReadAllText($"/proc/{pid}/environ").Split('\000') |> Array.contains $"OMPI_COMM_WORLD_RANK={rank}"
        with _ ->
            false)

let private mpiTest name body =
    test name {
        if not (onPath "mpiexec") then skiptest "mpiexec not found: apt-get install openmpi-bin"
        body ()
    }

[<Tests>]
let tests =
    testSequenced
    <| testList "mpi" [
        mpiTest "the rank tests pass under mpiexec -n 2" <| fun () ->
            let self = Path.Combine(AppContext.BaseDirectory, "RL2.Tests")
            let code, out, err = finish (TimeSpan.FromMinutes 4.0) (mpiexec $"-n 2 {self}")
            // Expecto's exit code is non-zero when a test fails; a failing rank aborts the job.
            Expect.equal code 0 $"exit code\nstdout:\n{out}\nstderr:\n{err}"

        mpiTest "rl2 train under mpiexec -n 2: one voice, both processes' steps, the default count per process" <| fun () ->
            let dir = TrainingTests.tempDir ()
            let code, out, err = finish (TimeSpan.FromMinutes 2.0) (mpiexec $"-n 2 {CliTests.rl2} {CliTests.small dir} --max_pol_iters 2")
            Expect.equal code 0 $"exit code: {err}"
            Expect.equal (count out "rl2 train") 1 "one summary"
            Expect.equal (count out "iter     2/2") 1 "one line per iteration"
            Expect.stringContains out "30 meta-episodes x 2 process(es)" "summary"
            Expect.equal (Metrics.read (Path.Combine(dir, "run")) |> Array.map _.EnvSteps) [| 360L; 720L |] "2 × 30 meta-episodes of 6 steps per iteration"
            Expect.equal (Legs.read (Path.Combine(dir, "run")) |> List.map (fun l -> l.FromIteration, l.Processes)) [ 0, 2 ] "one leg, recorded once, on 2 processes"
            let code, out, err = finish (TimeSpan.FromMinutes 2.0) (mpiexec $"-n 2 {CliTests.rl2} train --checkpoint_dir {dir} --max_pol_iters 0")
            Expect.equal code 0 $"exit code: {err}"
            Expect.stringContains out "1200 meta-episodes x 2 process(es)" "240000 / (2 · 100) per process by default"

        mpiTest "a rank that raises ends the job within 30 s, naming the rank and the error; the checkpoint stays" <| fun () ->
            let dir = TrainingTests.tempDir ()
            let code, _, _ = CliTests.run $"{CliTests.small dir} --max_pol_iters 2"
            Expect.equal code 0 "a first run leaves a checkpoint"
            // Checkpoints and metrics only: process 0 may have rewritten config.json and opened a TensorBoard
            // file, and after the abort it may still hold the run's lock for a moment.
            let files () =
                Directory.GetFiles(Path.Combine(dir, "run"), "*", SearchOption.AllDirectories)
                |> Array.filter (fun f -> f.EndsWith ".ckpt" || Path.GetFileName f = "metrics.jsonl")
                |> Array.sort
                |> Array.map (fun f -> f, File.ReadAllBytes f)
            let before = files ()
            // Rank 1 is given a wider network (and a run directory of its own, so the resume check
            // before MPI starts has nothing to refuse): process 0's networks do not fit its own.
            let other = TrainingTests.tempDir ()
            let clock = Stopwatch.StartNew()
            let job = mpiexec $"-n 1 {CliTests.rl2} {CliTests.small dir} --max_pol_iters 4 : -n 1 {CliTests.rl2} {CliTests.small other} --max_pol_iters 4 --num_features 16"
            let code, out, err = finish (TimeSpan.FromSeconds 60.0) job
            Expect.isLessThan clock.Elapsed.TotalSeconds 30.0 "the job ends within 30 s"
            Expect.notEqual code 0 "non-zero exit"
            Expect.stringContains (out + err) "rl2: rank 1: process 0's networks do not fit this process's" $"the rank and the error\n{out}\n{err}"
            Expect.equal (files ()) before "the checkpoint and metrics are untouched"

        mpiTest "a rank killed mid-run ends the job within 30 s and the last checkpoint resumes" <| fun () ->
            let dir = TrainingTests.tempDir ()
            let job = mpiexec $"-n 2 {CliTests.rl2} {CliTests.small dir} --max_pol_iters 1000"
            CliTests.waitForCheckpoints dir 3
            let clock = Stopwatch.StartNew()
            using (Process.GetProcessById(rankPid job.Process.Id 1)) (fun p -> p.Kill())
            let code, out, err = finish (TimeSpan.FromSeconds 60.0) job
            Expect.isLessThan clock.Elapsed.TotalSeconds 30.0 "the job ends within 30 s"
            Expect.notEqual code 0 "non-zero exit"
            Expect.stringContains (out + err) "rank 1" $"mpiexec names the rank\n{out}\n{err}"
            let latest = Checkpoint.latest (Path.Combine(dir, "run")) |> Option.get
            let code, out, err = CliTests.run $"{CliTests.small dir} --max_pol_iters {latest + 1}"
            Expect.equal code 0 $"a single process resumes the two-process checkpoint: {err}"
            Expect.stringContains out $"resuming from the checkpoint of iteration {latest}" "resumes"
    ]
