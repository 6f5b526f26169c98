/// One training process per run directory. A job started twice on the same run would write its flags
/// over the first's `config.json` and interleave checkpoints and metrics with it; the second is refused.
/// The lock is an advisory `flock` on `<run>/.lock` (.NET takes one for FileShare.None on Unix), so the
/// OS drops it when its process dies and a killed run resumes at once. Within a process it is shared:
/// the CLI takes it before writing the run's records and the trainer takes it again for notebooks and
/// the API, which call the trainer alone.
module RL2.Train.RunLock

open System
open System.Collections.Generic
open System.IO
open System.Threading

/// The run directory another process is training.
exception RunInUse of run: string

let fileName = ".lock"

/// A rank of a job that mpiexec has just aborted can hold the lock for a moment after mpiexec returns;
/// an immediate resume waits this long for it rather than being refused.
let private patience = TimeSpan.FromSeconds 5.0

let private held = Dictionary<string, FileStream * int ref>()

let private tryOpen (path: string) =
    try
        Some(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
    with :? IOException when File.Exists path ->
        None

let private openWithin (path: string) (wait: TimeSpan) =
    let clock = Diagnostics.Stopwatch.StartNew()
    let rec attempt () =
        match tryOpen path with
        | Some s -> Some s
        | None when clock.Elapsed < wait ->
            Thread.Sleep 100
            attempt ()
        | None -> None
    attempt ()

/// Holds `run` for this process until the result is disposed (creating the directory if needed);
/// raises RunInUse when another process holds it for longer than a dying process would.
let acquireWithin (wait: TimeSpan) (run: string) : IDisposable =
    Directory.CreateDirectory run |> ignore
    let path = Path.GetFullPath(Path.Combine(run, fileName))
    lock held (fun () ->
        match held.TryGetValue path with
        | true, (_, count) -> count.Value <- count.Value + 1
        | _ ->
            match openWithin path wait with
            | Some stream -> held[path] <- (stream, ref 1)
            | None -> raise (RunInUse run))
    let released = ref false
    { new IDisposable with
        member _.Dispose() =
            lock held (fun () ->
                match held.TryGetValue path with
                | true, (stream, count) when not released.Value ->
                    released.Value <- true
                    count.Value <- count.Value - 1
                    if count.Value = 0 then
                        held.Remove path |> ignore
                        stream.Dispose()
                | _ -> ()) }

/// `acquireWithin` the time a dying holder needs.
let acquire (run: string) = acquireWithin patience run

/// `acquire` for a run directory if there is one: training without a run writes nothing to guard.
let ofRun (run: string option) : IDisposable =
    match run with
    | Some r -> acquire r
    | None -> { new IDisposable with member _.Dispose() = () }
