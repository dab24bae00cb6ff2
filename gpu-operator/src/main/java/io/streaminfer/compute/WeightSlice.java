package io.streaminfer.compute;

/**
 * Rows [rowStart, rowStart + rows) and columns [colStart, colStart + cols) of a weight tensor: what one
 * tensor-parallel rank holds of it. Quantized tensors can only be cut between blocks, so a column range
 * that would split a block is refused here, naming the tensor.
 */
public record WeightSlice(WeightTensor tensor, int rowStart, int rows, int colStart, int cols) {

    public WeightSlice {
        if (rowStart < 0 || rows < 1 || rowStart + rows > tensor.rows()) {
            throw new IllegalArgumentException(tensor.name() + ": rows [" + rowStart + ", " + (rowStart + rows)
                    + ") outside its " + tensor.rows());
        }
        if (colStart < 0 || cols < 1 || colStart + cols > tensor.cols()) {
            throw new IllegalArgumentException(tensor.name() + ": columns [" + colStart + ", " + (colStart + cols)
                    + ") outside its " + tensor.cols());
        }
        int block = tensor.kind().blockSize();
        if (colStart % block != 0 || cols % block != 0) {
            throw new IllegalArgumentException(tensor.name() + " is stored as " + tensor.kind() + " in blocks of "
                    + block + " columns: a shard of columns [" + colStart + ", " + (colStart + cols)
                    + ") would split a block; choose a TP degree that keeps shards on block boundaries");
        }
    }

    /** The whole tensor. */
    public static WeightSlice of(WeightTensor tensor) {
        return new WeightSlice(tensor, 0, tensor.rows(), 0, tensor.cols());
    }

    /** Rows [rowStart, rowStart + rows), every column: a column-parallel shard. */
    public static WeightSlice rows(WeightTensor tensor, int rowStart, int rows) {
        return new WeightSlice(tensor, rowStart, rows, 0, tensor.cols());
    }

    /** Columns [colStart, colStart + cols), every row: a row-parallel shard. */
    public static WeightSlice columns(WeightTensor tensor, int colStart, int cols) {
        return new WeightSlice(tensor, 0, tensor.rows(), colStart, cols);
    }

    /** Row r of the slice (0-based within it) as floats into dst[dstOff, dstOff + cols). */
    public void readRow(int r, float[] dst, int dstOff) {
        tensor.readRow(rowStart + r, colStart, cols, dst, dstOff);
    }
}
