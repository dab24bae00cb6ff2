// Small kernels of one transformer step, compiled once per device with NVRTC (no host headers; the
// Java side passes --fmad=false so that a*b + c rounds like the CPU reference instead of fusing).
// Layouts, all row-major and fp32 unless said otherwise:
//   x, xb, projected   (rows, dim)
//   qkv                (rows, q_width + 2 * kv_width): q | k | v of this rank's heads
//   key/value cache    (block, position in block, kv_width), one pair of buffers per layer: a pool of
//                      blocks; position p of the step's sequence s lies in block
//                      block_tables[s * table_width + p / block_size] at offset p % block_size
//   block_tables       (sequences, table_width) pool block ids, -1 past a sequence's last block
//   gate_up            (rows, 2 * hidden): gate | up
//   rope tables        (position, head_size / 2)

#define BLOCK 256

// Sum of v over the block; every thread gets the result. scratch holds BLOCK floats.
__device__ float block_sum(float v, float* scratch) {
    scratch[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) scratch[threadIdx.x] += scratch[threadIdx.x + s];
        __syncthreads();
    }
    float total = scratch[0];
    __syncthreads();
    return total;
}

__device__ float block_max(float v, float* scratch) {
    scratch[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) scratch[threadIdx.x] = fmaxf(scratch[threadIdx.x], scratch[threadIdx.x + s]);
        __syncthreads();
    }
    float total = scratch[0];
    __syncthreads();
    return total;
}

// x[row] = embedding[tokens[row]]; grid (rows), block BLOCK.
extern "C" __global__ void embed_rows(float* x, const float* embedding, const int* tokens, int dim) {
    int row = blockIdx.x;
    const float* src = embedding + (long long) tokens[row] * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) x[(long long) row * dim + i] = src[i];
}

// out[row] = weight * (in[src] / rms(in[src])), src = row_index ? row_index[row] : row; grid (rows), block BLOCK.
extern "C" __global__ void rms_norm(float* out, const float* in, const float* weight, const int* row_index,
                                    int dim, float eps) {
    __shared__ float scratch[BLOCK];
    int row = blockIdx.x;
    int src = row_index ? row_index[row] : row;
    const float* v = in + (long long) src * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += v[i] * v[i];
    ss = block_sum(ss, scratch);
    float scale = 1.0f / sqrtf(ss / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[(long long) row * dim + i] = weight[i] * (scale * v[i]);
}

// Offset in floats of the cache row of position pos of sequence seq.
__device__ long long kv_row(const int* block_tables, int table_width, int block_size, int seq, int pos,
                            int kv_width) {
    long long block = block_tables[seq * table_width + pos / block_size];
    return (block * block_size + pos % block_size) * kv_width;
}

// Rotates q and k of every row at its position, then writes k and v into the cache at the row's position,
// in the block its sequence's table names.
// adjacent_pairs: 1 pairs (2i, 2i+1) within a head (llama2.c), 0 pairs (i, i + head_size/2).
// grid (rows), block BLOCK.
extern "C" __global__ void rope_store(float* qkv, float* key_cache, float* value_cache, const float* rope_cos,
                                      const float* rope_sin, const int* sequences, const int* positions,
                                      const int* block_tables, int table_width, int block_size, int q_width,
                                      int kv_width, int head_size, int adjacent_pairs) {
    int row = blockIdx.x;
    int pos = positions[row];
    int half = head_size / 2;
    int stride = q_width + 2 * kv_width;
    float* q = qkv + (long long) row * stride;
    float* k = q + q_width;
    const float* v = k + kv_width;
    long long at = kv_row(block_tables, table_width, block_size, sequences[row], pos, kv_width);
    float* key_row = key_cache + at;
    float* value_row = value_cache + at;
    int q_pairs = q_width / 2;
    int pairs = q_pairs + kv_width / 2;
    for (int j = threadIdx.x; j < pairs; j += blockDim.x) {
        bool is_key = j >= q_pairs;
        int local = is_key ? j - q_pairs : j;
        int head = local / half;
        int i = local % half;
        int a = adjacent_pairs ? head * head_size + 2 * i : head * head_size + i;
        int b = adjacent_pairs ? a + 1 : a + half;
        float c = rope_cos[pos * half + i];
        float s = rope_sin[pos * half + i];
        float* t = is_key ? k : q;
        float v0 = t[a];
        float v1 = t[b];
        float r0 = v0 * c - v1 * s;
        float r1 = v0 * s + v1 * c;
        t[a] = r0;
        t[b] = r1;
        if (is_key) {
            key_row[a] = r0;
            key_row[b] = r1;
        }
    }
    for (int i = threadIdx.x; i < kv_width; i += blockDim.x) value_row[i] = v[i];
}

// Causal attention of one (head, row) over positions [0, pos] of the row's sequence, read through its block
// table; grid (heads, rows), block BLOCK, dynamic shared memory (positions per sequence) floats for the scores.
extern "C" __global__ void attention(float* out, const float* qkv, const float* key_cache, const float* value_cache,
                                     const int* sequences, const int* positions, const int* block_tables,
                                     int table_width, int block_size, int head_start, int kv_head_start,
                                     int group_size, int head_size, int q_width, int kv_width) {
    extern __shared__ float scores[];
    __shared__ float scratch[BLOCK];
    int h = blockIdx.x;
    int row = blockIdx.y;
    int pos = positions[row];
    int kv_head = (head_start + h) / group_size - kv_head_start;
    const float* q = qkv + (long long) row * (q_width + 2 * kv_width) + h * head_size;
    int seq = sequences[row];
    const float* keys = key_cache + kv_head * head_size;
    const float* values = value_cache + kv_head * head_size;
    float sqrt_head_size = sqrtf((float) head_size);
    float local_max = __int_as_float(0xff800000);  // -infinity, without math.h
    for (int t = threadIdx.x; t <= pos; t += blockDim.x) {
        const float* key = keys + kv_row(block_tables, table_width, block_size, seq, t, kv_width);
        float dot = 0.0f;
        for (int i = 0; i < head_size; i++) dot += q[i] * key[i];
        float s = dot / sqrt_head_size;
        scores[t] = s;
        local_max = fmaxf(local_max, s);
    }
    float max = block_max(local_max, scratch);
    float local_sum = 0.0f;
    for (int t = threadIdx.x; t <= pos; t += blockDim.x) {
        float e = expf(scores[t] - max);
        scores[t] = e;
        local_sum += e;
    }
    float sum = block_sum(local_sum, scratch);  // also orders the score writes before the reads below
    float* o = out + (long long) row * q_width + h * head_size;
    for (int i = threadIdx.x; i < head_size; i += blockDim.x) {
        float acc = 0.0f;
        for (int t = 0; t <= pos; t++) {
            acc += (scores[t] / sum) * values[kv_row(block_tables, table_width, block_size, seq, t, kv_width) + i];
        }
        o[i] = acc;
    }
}

// x += y over n elements; grid (ceil(n / BLOCK)), block BLOCK.
extern "C" __global__ void add_in_place(float* x, const float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += y[i];
}

// hidden[r, i] = silu(gate[r, i]) * up[r, i]; gate_up rows hold (gate | up); grid (ceil(rows * width / BLOCK)).
extern "C" __global__ void swiglu(float* hidden, const float* gate_up, int rows, int width) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= rows * width) return;
    int r = idx / width;
    int i = idx % width;
    float gate = gate_up[(long long) r * 2 * width + i];
    float silu = gate * (1.0f / (1.0f + expf(-gate)));
    hidden[idx] = silu * gate_up[(long long) r * 2 * width + width + i];
}

// bfloat16 bits of in[i], rounded to nearest even (NaN stays a quiet NaN); grid (ceil(n / BLOCK)).
extern "C" __global__ void to_bf16(unsigned short* out, const float* in, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    unsigned int bits = __float_as_uint(in[i]);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        out[i] = (unsigned short) ((bits >> 16) | 0x40u);
    } else {
        out[i] = (unsigned short) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }
}

// x[row, i] += bias[i] for i < n (the leading n of each width-wide row); grid (rows), block BLOCK.
extern "C" __global__ void add_bias(float* x, const float* bias, int width, int n) {
    int row = blockIdx.x;
    for (int i = threadIdx.x; i < n; i += blockDim.x) x[(long long) row * width + i] += bias[i];
}

// In place, RMSNorm of each head_dim-wide head at offset of each row, one weight vector for every head
// (Qwen3's q/k norm); grid (heads, rows), block BLOCK.
extern "C" __global__ void head_rms_norm(float* x, const float* weight, int row_width, int offset, int head_dim,
                                         float eps) {
    __shared__ float scratch[BLOCK];
    float* v = x + (long long) blockIdx.y * row_width + offset + blockIdx.x * head_dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < head_dim; i += blockDim.x) ss += v[i] * v[i];
    ss = block_sum(ss, scratch);  // every read of v is done before any thread writes
    float scale = 1.0f / sqrtf(ss / head_dim + eps);
    for (int i = threadIdx.x; i < head_dim; i += blockDim.x) v[i] = weight[i] * (scale * v[i]);
}
