/// Checkpoints as the reference lays them out, `<run>/{policy_net,value_net}/`, plus `<run>/trainer/`
/// with what an exact resume needs (iteration, return window, generator state). Each file is written
/// to a temporary name and renamed; the trainer file is written last and marks an iteration complete,
/// so policy and value always belong to the same iteration.
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
      Generator: byte[] }

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

let private saveNet (path: string) (net: torch.nn.Module) (opt: Modules.OptimizerHelper) =
    writeAtomically path (fun w ->
        net.save w |> ignore
        opt.save_state_dict w)

let private loadNet (path: string) (net: torch.nn.Module) (opt: Modules.OptimizerHelper) =
    use stream = File.OpenRead path
    use reader = new BinaryReader(stream)
    net.load(reader, true) |> ignore
    opt.load_state_dict reader

let private saveTrainer (path: string) (s: TrainerState) =
    writeAtomically path (fun w ->
        w.Write "rl2-trainer-1"
        w.Write s.Iteration
        w.Write s.EnvSteps
        w.Write s.Seconds
        w.Write s.Returns.Length
        for r in s.Returns do w.Write r
        w.Write s.Generator.Length
        w.Write s.Generator)

let private loadTrainer (path: string) =
    use stream = File.OpenRead path
    use r = new BinaryReader(stream)
    if r.ReadString() <> "rl2-trainer-1" then failwith $"{path} is not an RL2 trainer checkpoint"
    let iteration = r.ReadInt32()
    let steps = r.ReadInt64()
    let seconds = r.ReadDouble()
    let returns = Array.init (r.ReadInt32()) (fun _ -> r.ReadSingle())
    let gen = r.ReadBytes(r.ReadInt32())
    { Iteration = iteration
      EnvSteps = steps
      Seconds = seconds
      Returns = returns
      Generator = gen }

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
    saveNet (Path.Combine(policyDir, name)) learner.Policy learner.PolicyOptimizer
    saveNet (Path.Combine(valueDir, name)) learner.Value learner.ValueOptimizer
    saveTrainer (Path.Combine(trainerDir run, name)) state
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

/// Loads only the policy network of the newest complete checkpoint (evaluation needs no optimiser);
/// returns the iteration loaded.
let loadPolicy (run: string) (policy: torch.nn.Module) =
    latest run
    |> Option.map (fun i ->
        use stream = File.OpenRead(Path.Combine(run, "policy_net", fileName i))
        use reader = new BinaryReader(stream)
        policy.load(reader, true) |> ignore
        i)

/// Generator state as bytes, and back.
let generatorState (gen: Generator) =
    use s = gen.get_state ()
    s.data<byte>().ToArray()

let restoreGenerator (gen: Generator) (bytes: byte[]) =
    use s = torch.tensor(bytes, dtype = ScalarType.Byte)
    gen.set_state s
