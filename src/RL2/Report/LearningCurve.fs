/// Learning curves as PNG (ScottPlot): mean meta-episode return against environment steps.
module RL2.Report.LearningCurve

open System.IO
open RL2.Train

type Series =
    { Label: string
      EnvSteps: float[]
      MeanReturns: float[] }

/// A run's curve from its `metrics.jsonl`, labelled with the run directory's name.
let ofRun (run: string) =
    let ms = Metrics.read run
    { Label = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath run))
      EnvSteps = ms |> Array.map (fun m -> float m.EnvSteps)
      MeanReturns = ms |> Array.map _.MeanReturn }

/// Draws the curves and horizontal reference levels (label, return) into a PNG, written under a
/// temporary name and renamed so a viewer never sees half a file.
let save (path: string) (title: string) (series: Series list) (levels: (string * float) list) =
    use plot = new ScottPlot.Plot()
    for s in series do
        let line = plot.Add.Scatter(s.EnvSteps, s.MeanReturns)
        line.LegendText <- s.Label
        line.MarkerSize <- 0.0f
        line.LineWidth <- 2.0f
    for label, level in levels do
        let h = plot.Add.HorizontalLine level
        h.LegendText <- $"{label} ({level:F2})"
        h.LinePattern <- ScottPlot.LinePattern.Dashed
    plot.Title title
    plot.XLabel "environment steps"
    plot.YLabel "mean meta-episode return (last 1000)"
    plot.ShowLegend(ScottPlot.Alignment.LowerRight) |> ignore
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath path)) |> ignore
    let tmp = Path.ChangeExtension(path, ".tmp.png")
    plot.SavePng(tmp, 900, 540) |> ignore
    File.Move(tmp, path, true)
