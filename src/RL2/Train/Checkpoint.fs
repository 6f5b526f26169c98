/// Checkpoints as the reference lays them out, `<run>/{policy_net,value_net}/`, plus `<run>/trainer/`
/// with what an exact resume needs (iteration, return window, every process's generator state). Each
/// file is written to a temporary name and renamed; the trainer file is written last and marks an
/// iteration complete, so policy and value always belong to the same iteration. The same state also
/// travels as bytes, from process 0 to the others at the start of a data-parallel run.
module RL2.Train.Checkpoint

open System
open System.IO
open TorchSharp
open RL2

/// Everything beyond network and optimiser state that a resumed run needs to continue exactly.
type TrainerState =
    { Iteration: int
      EnvSteps: int64
      Seconds: float
      /// Most recent meta-episode returns, oldest first.
      Returns: float32[]
      /// Experience generator state of each process, in rank order.
      Generators: byte[][] }

let kept = 5

let private fileName (iteration: int) = $"iter_%08d{iteration}.ckpt"

let private iterationOf (path: string) =
    let name = Path.GetFileNameWithoutExtension path
    match Int32.TryParse(name.Replace("iter_", "")) with
    | true, n when name.StartsWith "iter_" -> Some n
    | _ -> None

let private writeAtomically (path: string) (write: BinaryWriter -> unit) =
    Directory.CreateDirectory(Path.GetDirectoryName path) |> ignore
    let tmp = path + ".tmp"
    do
        use stream = new FileStream(tmp, FileMode.Create, FileAccess.Write)
        use writer = new BinaryWriter(stream)
        write writer
        writer.Flush()
        stream.Flush(true)
    File.Move(tmp, path, true)

let private iterations (dir: string) =
    if Directory.Exists dir then
        Directory.GetFiles(dir, "iter_*.ckpt") |> Array.choose iterationOf |> Array.sort
    else
        [||]

let private writeNet (w: BinaryWriter) (net: torch.nn.Module) (opt: Modules.OptimizerHelper) =
    net.save w |> ignore
    opt.save_state_dict w

let private readNet (r: BinaryReader) (net: torch.nn.Module) (opt: Modules.OptimizerHelper) =
    net.load(r, true) |> ignore
    opt.load_state_dict r

let private loadNet (path: string) (net: torch.nn.Module) (opt: Modules.OptimizerHelper) =
    use stream = File.OpenRead path
    use reader = new BinaryReader(stream)
    readNet reader net opt

let private tag = "rl2-trainer-2"

let private writeTrainer (w: BinaryWriter) (s: TrainerState) =
    w.Write tag
    w.Write s.Iteration
    w.Write s.EnvSteps
    w.Write s.Seconds
    w.Write s.Returns.Length
    for r in s.Returns do w.Write r
    w.Write s.Generators.Length
    for g in s.Generators do
        w.Write g.Length
        w.Write g

let private readTrainer (source: string) (r: BinaryReader) =
    let version = r.ReadString()
    // Version 1 came from single-process runs and held one generator.
    if version <> tag && version <> "rl2-trainer-1" then failwith $"{source} is not an RL2 trainer checkpoint"
    let iteration = r.ReadInt32()
    let steps = r.ReadInt64()
    let seconds = r.ReadDouble()
    let returns = Array.init (r.ReadInt32()) (fun _ -> r.ReadSingle())
    let generators = Array.init (if version = tag then r.ReadInt32() else 1) (fun _ -> r.ReadBytes(r.ReadInt32()))
    { Iteration = iteration
      EnvSteps = steps
      Seconds = seconds
      Returns = returns
      Generators = generators }

let private loadTrainer (path: string) =
    use stream = File.OpenRead path
    use reader = new BinaryReader(stream)
    readTrainer path reader

/// The networks and optimisers a checkpoint holds.
type Learner =
    { Policy: torch.nn.Module
      PolicyOptimizer: Modules.OptimizerHelper
      Value: torch.nn.Module
      ValueOptimizer: Modules.OptimizerHelper }

let private netDirs run = [ Path.Combine(run, "policy_net"); Path.Combine(run, "value_net") ]

let private trainerDir run = Path.Combine(run, "trainer")

/// Iteration of the newest complete checkpoint in a run directory.
let latest (run: string) =
    let complete =
        iterations (trainerDir run)
        |> Array.filter (fun i -> netDirs run |> List.forall (fun d -> File.Exists(Path.Combine(d, fileName i))))
    if complete.Length = 0 then None else Some(Array.max complete)

/// Saves iteration `state.Iteration` and drops all but the newest `kept` iterations.
let save (run: string) (learner: Learner) (state: TrainerState) =
    let name = fileName state.Iteration
    let policyDir, valueDir = Path.Combine(run, "policy_net"), Path.Combine(run, "value_net")
    writeAtomically (Path.Combine(policyDir, name)) (fun w -> writeNet w learner.Policy learner.PolicyOptimizer)
    writeAtomically (Path.Combine(valueDir, name)) (fun w -> writeNet w learner.Value learner.ValueOptimizer)
    writeAtomically (Path.Combine(trainerDir run, name)) (fun w -> writeTrainer w state)
    for dir in trainerDir run :: netDirs run do
        let all = iterations dir
        for old in all |> Array.take (max 0 (all.Length - kept)) do
            File.Delete(Path.Combine(dir, fileName old))

/// Restores the newest complete checkpoint into `learner`, returning its trainer state.
let tryLoadLatest (run: string) (learner: Learner) =
    latest run
    |> Option.map (fun i ->
        let name = fileName i
        loadNet (Path.Combine(run, "policy_net", name)) learner.Policy learner.PolicyOptimizer
        loadNet (Path.Combine(run, "value_net", name)) learner.Value learner.ValueOptimizer
        loadTrainer (Path.Combine(trainerDir run, name)))

/// Networks, optimisers and (if any) trainer state as bytes.
let toBytes (learner: Learner) (state: TrainerState option) =
    use stream = new MemoryStream()
    use w = new BinaryWriter(stream)
    writeNet w learner.Policy learner.PolicyOptimizer
    writeNet w learner.Value learner.ValueOptimizer
    w.Write state.IsSome
    state |> Option.iter (writeTrainer w)
    w.Flush()
    stream.ToArray()

/// Restores `toBytes` into `learner`, returning the trainer state it held.
let ofBytes (learner: Learner) (bytes: byte[]) =
    use r = new BinaryReader(new MemoryStream(bytes))
    readNet r learner.Policy learner.PolicyOptimizer
    readNet r learner.Value learner.ValueOptimizer
    if r.ReadBoolean() then Some(readTrainer "broadcast state" r) else None

/// Generator state as bytes, and back.
let generatorState (gen: Generator) =
    use s = gen.get_state ()
    s.data<byte>().ToArray()

let restoreGenerator (gen: Generator) (bytes: byte[]) =
    use s = torch.tensor(bytes, dtype = ScalarType.Byte)
    gen.set_state s
