/// The legs of a run — each start or resume of training — with the machine each ran on, in the run's
/// `legs.jsonl`, so wall-clock hours summed over a run that spanned machines can be read for what they are.
module RL2.Train.Legs

open System
open System.IO
open System.Runtime.InteropServices
open System.Text.Json

type Leg =
    { /// The checkpoint the leg started from (0: from scratch); it trained the iterations after it.
      FromIteration: int
      Started: DateTimeOffset
      Cpu: string
      LogicalCpus: int
      TorchThreads: int
      Processes: int }

let fileName = "legs.jsonl"

/// The processor's model name as Linux reports it, else the architecture and OS.
let cpuModel () =
    let fallback = $"{RuntimeInformation.ProcessArchitecture} ({RuntimeInformation.OSDescription})"
    try
        File.ReadLines "/proc/cpuinfo"
        |> Seq.tryFind (fun l -> l.StartsWith "model name")
        |> Option.map (fun l -> l.Substring(l.IndexOf ':' + 1).Trim())
        |> Option.filter (String.IsNullOrWhiteSpace >> not)
        |> Option.defaultValue fallback
    with :? IOException | :? UnauthorizedAccessException ->
        fallback

/// This machine, for a leg starting after `fromIteration`.
let current (fromIteration: int) (torchThreads: int) (processes: int) =
    { FromIteration = fromIteration
      Started = DateTimeOffset.UtcNow
      Cpu = cpuModel ()
      LogicalCpus = Environment.ProcessorCount
      TorchThreads = torchThreads
      Processes = processes }

let private options = JsonSerializerOptions(PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower)

let append (run: string) (leg: Leg) =
    Directory.CreateDirectory run |> ignore
    File.AppendAllText(Path.Combine(run, fileName), JsonSerializer.Serialize(leg, options) + "\n")

/// Records the leg about to train `run` from its newest checkpoint, unless it is at `maxIterations` already.
let start (run: string) (maxIterations: int) (torchThreads: int) (processes: int) =
    let from = defaultArg (Checkpoint.latest run) 0
    if from < maxIterations then append run (current from torchThreads processes)

/// The run's legs in the order they started; empty for a run trained before legs were recorded.
let read (run: string) =
    let path = Path.Combine(run, fileName)
    if File.Exists path then
        File.ReadAllLines path
        |> Array.filter (fun l -> l.Trim() <> "")
        |> Array.map (fun l -> JsonSerializer.Deserialize<Leg>(l, options))
        |> Array.toList
    else
        []

/// Which iterations of a run that reached `lastIteration` each machine trained, e.g. "iterations
/// 1–400: <cpu> (2 logical CPUs, 1 torch thread, 1 process)"; None when no leg was recorded. A leg's
/// iterations are those no later leg redid from an earlier checkpoint.
let describe (legs: Leg list) (lastIteration: int) =
    let machine (l: Leg) =
        let count n one many = if n = 1 then $"1 {one}" else $"{n} {many}"
        let cpus, threads, processes =
            count l.LogicalCpus "logical CPU" "logical CPUs", count l.TorchThreads "torch thread" "torch threads", count l.Processes "process" "processes"
        $"{l.Cpu} ({cpus}, {threads}, {processes})"
    // A leg's work survives up to the earliest checkpoint any later leg resumed from.
    let ends =
        match legs with
        | [] -> []
        | _ :: later -> List.scanBack min (later |> List.map _.FromIteration) lastIteration
    let spans =
        List.zip legs ends
        |> List.filter (fun (l, e) -> e > l.FromIteration)
        // Legs on one machine in a row read as one span.
        |> List.fold
            (fun acc (l, e) ->
                match acc with
                | (m, a, _) :: rest when m = machine l -> (m, a, e) :: rest
                | _ -> (machine l, l.FromIteration + 1, e) :: acc)
            []
        |> List.rev
    match spans with
    | [] -> None
    | (_, first, _) :: _ ->
        let unrecorded = if first > 1 then [ $"iterations 1–{first - 1}: not recorded" ] else []
        unrecorded @ [ for m, a, e in spans -> $"iterations {a}–{e}: {m}" ] |> String.concat "; " |> Some
