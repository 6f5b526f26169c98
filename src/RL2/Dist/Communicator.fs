/// How training processes talk: the single-process default here; the MPI binding (`Mpi.fs`) builds the
/// same record.
namespace RL2.Dist

open System
open TorchSharp
open RL2

type Communicator =
    { Rank: int
      Size: int
      /// Sums a float32 buffer over all processes, in place.
      AllreduceSum: float32[] -> unit
      /// Process 0's bytes, on every process.
      Broadcast: byte[] -> byte[]
      /// Every process's bytes concatenated in rank order, on every process; all pass the same length.
      Allgather: byte[] -> byte[] }

module Communicator =
    /// One process: reductions are identities.
    let single =
        { Rank = 0
          Size = 1
          AllreduceSum = ignore
          Broadcast = id
          Allgather = id }

    /// Averages the gradients of `parameters` over processes with one allreduce over one flat buffer.
    let averageGradients (comm: Communicator) (parameters: Modules.Parameter seq) =
        if comm.Size > 1 then
            use _ = torch.no_grad ()
            let grads = parameters |> Seq.choose (fun p -> Option.ofObj p.grad) |> Seq.toArray
            use flat = torch.cat(grads |> Array.map (fun g -> g.flatten()), 0L)
            let buffer = flat.data<float32>().ToArray()
            comm.AllreduceSum buffer
            use summed = torch.tensor(buffer)
            use mean = summed.div_((float32 comm.Size).ToScalar())
            let mutable offset = 0L
            for g in grads do
                let n = g.numel ()
                use part = mean.narrow(0L, offset, n)
                g.copy_(part.view_as g) |> ignore
                offset <- offset + n

    /// The mean over processes of a few float statistics.
    let mean (comm: Communicator) (values: float32[]) =
        let buffer = Array.copy values
        comm.AllreduceSum buffer
        buffer |> Array.map (fun v -> v / float32 comm.Size)

    /// Every process's values concatenated in rank order; all processes pass the same count.
    let gather (comm: Communicator) (values: float32[]) =
        let bytes = Array.zeroCreate<byte> (values.Length * sizeof<float32>)
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length)
        let all = comm.Allgather bytes
        let result = Array.zeroCreate<float32> (all.Length / sizeof<float32>)
        Buffer.BlockCopy(all, 0, result, 0, all.Length)
        result
