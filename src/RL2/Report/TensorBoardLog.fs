/// TensorBoard event files of a run (TorchSharp's SummaryWriter), one scalar per metric per iteration.
module RL2.Report.TensorBoardLog

open System.IO
open TorchSharp
open RL2.Train

let directory (run: string) = Path.Combine(run, "tensorboard")

/// The scalars written for each iteration, by TensorBoard tag.
let scalars (m: Metrics.Iteration) =
    [ "return/mean_meta_episode", m.MeanReturn
      "loss/policy", m.PolicyLoss
      "loss/value", m.ValueLoss
      "policy/entropy", m.Entropy
      "policy/clipfrac", m.ClipFrac
      match m.AdvantageMean with
      | Some mean -> "policy/advantage_mean", mean
      | None -> ()
      "speed/steps_per_second", m.StepsPerSecond
      "optimizer/learning_rate", m.LearningRate
      match m.EvalMean with
      | Some mean -> "return/held_out_evaluation", mean
      | None -> () ]

/// A writer for the run; call the returned function once per iteration.
let writer (run: string) =
    let w = torch.utils.tensorboard.SummaryWriter(directory run)
    fun (m: Metrics.Iteration) ->
        for tag, value in scalars m do
            w.add_scalar(tag, float32 value, m.Iteration)
