/// `rl2 train`: resume checks, the live view, and training on one process or under mpiexec.
module RL2.Cli.TrainCommand

open System
open System.IO
open System.Runtime.InteropServices
open Argu
open TorchSharp
open RL2.Dist
open RL2.Rl
open RL2.Train
open RL2.Report
open RL2.Cli.Args

/// What a second job on a run being trained is told.
let runInUse (run: string) =
    $"{run} is being trained by another process; wait for it to stop, or train under another --model_name"

/// Refuses a resume whose flags do not fit the run's checkpoints; returns the flags that changed.
let checkResume (run: string) (now: RunConfig.Config) =
    let describe diffs = diffs |> List.map (fun (k, a, b) -> $"--{k} was {a}, now {b}") |> String.concat "; "
    match RunConfig.load run with
    | Error msg -> raise (UsageError msg)
    | Ok(Some saved) when (Checkpoint.latest run).IsSome ->
        let c = RunConfig.compare fixedFlags (completeConfig saved) now
        if not c.Incompatible.IsEmpty then
            raise (UsageError $"cannot resume {run} with these flags: {describe c.Incompatible} (pass the saved values, or train under another --model_name)")
        if c.Changed.IsEmpty then None else Some(describe c.Changed)
    | Ok _ -> None

/// The random player's level is measured on tasks from a generator stream training never uses.
let private randomPlayerStream = 1_000_000

let curveFile = "learning_curve.png"

/// The learning curve of a run: the training window's mean return, the held-out evaluations if any,
/// the random player's level and the best published classic baseline.
let drawCurve (s: Trainer.Settings) (run: string) (path: string) =
    let chance = Rollout.randomPlayerReturn (Trainer.generator s.Seed randomPlayerStream) s.Task 1000 s.MetaEpisodeLen
    // Named after the run the settings train, also when drawn from a copy of it elsewhere.
    let title = $"{s.Task.Name} · {s.Architecture.Name} {s.NumFeatures} · {Path.GetFileName(defaultArg s.RunDir run)}"
    let levels =
        ("random player", chance)
        :: (RL2.Eval.Published.bestBaseline s.Task s.MetaEpisodeLen |> Option.map (fun (m, v) -> $"best classic baseline, published ({m})", v) |> Option.toList)
    fun () ->
        let evaluations = LearningCurve.evaluationsOfRun run
        let series = LearningCurve.ofRun run :: (if evaluations.X.Length > 0 then [ evaluations ] else [])
        LearningCurve.save path title series levels

/// What process 0 shows and writes as training goes: a line per iteration, TensorBoard scalars and
/// the learning curve with its reference levels; then `after`, once the iteration is checkpointed.
let private display (s: Trainer.Settings) (after: Metrics.Iteration -> unit) : Trainer.Progress =
    match s.RunDir with
    | None -> { Iteration = (fun m -> Progress.iteration s.MaxIterations m; after m); Warning = Progress.warning }
    | Some run ->
        let tensorboard = TensorBoardLog.writer run
        let redraw = drawCurve s run (Path.Combine(run, curveFile))
        { Iteration =
            fun m ->
                Progress.iteration s.MaxIterations m
                tensorboard m
                if m.Iteration % 5 = 0 || m.Iteration = s.MaxIterations then redraw ()
                after m
          Warning = Progress.warning }

/// Trains (resuming) as `rl2 train` does, stopping early after `timeLimit` if one is given and calling
/// `after` on process 0 once each iteration is checkpointed; returns the last iteration's metrics on
/// process 0, None when there was nothing to do.
let train (comm: Communicator) (req: TrainRequest) (changed: string option) (timeLimit: TimeSpan option) (after: Metrics.Iteration -> unit) =
    torch.set_num_threads req.Threads
    // One voice for the whole job: process 0 prints and writes, the others train silently.
    let lead = comm.Rank = 0
    // Taken before the run's records are written, so a job started twice leaves the first one's alone.
    use _ = RunLock.ofRun (if lead then req.Settings.RunDir else None)
    let progress =
        if lead then
            Progress.widen ()
            Progress.summary "rl2 train" req.Summary
            changed |> Option.iter (fun c -> Progress.note $"resuming with changed flags: {c}")
            req.Settings.RunDir
            |> Option.iter (fun run ->
                RunConfig.save run req.Config
                Checkpoint.latest run |> Option.iter (fun i -> Progress.note $"resuming from the checkpoint of iteration {i}")
                Legs.start run req.Settings.MaxIterations req.Threads comm.Size)
            display req.Settings after
        else
            Trainer.Progress.silent
    // The first Ctrl-C or SIGTERM lets the iteration under way finish and be checkpointed; a second one
    // ends the process at once (the newest checkpoint resumes either way).
    let stopRequested = ref false
    let stopAfterIteration (c: PosixSignalContext) =
        if not stopRequested.Value then
            stopRequested.Value <- true
            c.Cancel <- true
            if lead then Progress.note "stopping after this iteration (again to stop now)"
    use _ = PosixSignalRegistration.Create(PosixSignal.SIGINT, stopAfterIteration)
    use _ = PosixSignalRegistration.Create(PosixSignal.SIGTERM, stopAfterIteration)
    let options: Trainer.Options =
        { Evaluation = req.Evaluation
          TimeLimit = timeLimit
          StopRequested = fun () -> stopRequested.Value }
    let last = Trainer.trainWith comm req.Settings options (Trainer.createLearner req.Settings) progress
    if lead then
        match last with
        | Some m -> Progress.note $"done: iteration {m.Iteration}, mean meta-episode return {m.MeanReturn:F3}, {m.Seconds:F0} s of training"
        | None -> Progress.note $"nothing to do: already at iteration {req.Settings.MaxIterations}"
        match req.Evaluation, req.Settings.RunDir |> Option.bind Checkpoint.tryBest with
        | Some _, Some b ->
            Progress.note $"best held-out evaluation: {b.Mean:F3} ± {b.HalfWidth:F3} at iteration {b.Iteration} ({Checkpoint.bestDir req.Settings.RunDir.Value})"
        | _ -> ()
    last

/// Under mpiexec every process trains. A failure on one aborts the job: the others would otherwise wait
/// forever in their next collective. (Flag mistakes are found before MPI starts, the same on every process.)
let private trainUnderMpi (req: TrainRequest) (changed: string option) =
    let comm = Mpi.init ()
    try
        train comm req changed None ignore |> ignore
        Mpi.finalize ()
        0
    with
    | Trainer.TrainingDiverged(iteration, quantity) ->
        eprintfn "rl2: rank %d: training stopped at iteration %d: the %s is not finite" comm.Rank iteration quantity
        Mpi.abort 1
    | RunLock.RunInUse run ->
        eprintfn "rl2: %s" (runInUse run)
        Mpi.abort 2
    | e ->
        eprintfn "rl2: rank %d: %s\n%O" comm.Rank e.Message e
        Mpi.abort 1

/// `rl2 train`, on one process or on every process mpiexec started.
let command (r: ParseResults<TrainArgs>) =
    let size = Mpi.worldSize ()
    let req = toTrainRequest (defaultArg size 1) r
    // Checked before MPI starts, so a mistake reads the same, in one line, on every process.
    let changed = req.Settings.RunDir |> Option.bind (fun run -> checkResume run req.Config)
    match size with
    | Some _ -> trainUnderMpi req changed
    | None ->
        train Communicator.single req changed None ignore |> ignore
        0
